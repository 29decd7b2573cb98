"""Every DKIM signature counts, and an operator can trust an unknown signer: its held bills are then processed once.

Through the real Dovecot and aiosmtpd, on both databases. The bulk sender's key is made at run time like
CEMIG's; the DNS lookup answers both.
"""

from __future__ import annotations

from functools import lru_cache

import pytest
from sqlmodel import select

from processor.senders import trust_sender, untrust_sender
from simulator.mailer import generate_dkim_key
from storage.engine import session_scope
from storage.errors import InvalidDomain
from storage.mail_models import Forward, Invoice, MailMessage
from storage.senders import dkim_failed_groups, trusted_domains
from tests.processor.mime import bill_message, cemig_key, dns_for, sign_bytes

BULK = "mailer.bulk-sender.example"


@lru_cache(maxsize=1)
def bulk_key():
    return generate_dkim_key(selector="s1", domain=BULK)


def _bulk_only(unit) -> bytes:
    """CEMIG's e-mail (From cemig.com.br) signed only by the bulk sender, as a new platform would send it."""
    return sign_bytes(bill_message(unit.inbox_address, unit.installation, "2026-11", sign=False), bulk_key())


def _dns():
    return dns_for(cemig_key(), bulk_key())


def test_a_message_signed_by_a_bulk_sender_first_and_the_utility_second_passes(world):
    unit = world.add_unit(1)
    raw = sign_bytes(bill_message(unit.inbox_address, unit.installation, "2026-11"), bulk_key())
    assert raw.index(f"d={BULK}".encode()) < raw.index(b"d=cemig.com.br")  # the bulk signature is on top
    world.deliver(raw)
    assert world.poll(dns_txt=_dns()).outcomes == {"parsed": 1}
    with session_scope(world.engine) as session:
        message = session.exec(select(MailMessage)).one()
    assert message.dkim == "pass" and message.dkim_domains == f"{BULK},cemig.com.br"
    assert len(world.smtp.messages) == 1


def test_a_bill_signed_by_an_untrusted_domain_is_held_then_processed_once_it_is_trusted(world):
    units = [world.add_unit(n) for n in (1, 2)]
    for unit in units:
        world.deliver(_bulk_only(unit))
    assert world.poll(dns_txt=_dns()).outcomes == {"dkim_failed": 2}
    assert world.smtp.messages == [] and world.counts()["Quarantine"] == 2
    with session_scope(world.engine) as session:
        (group,) = dkim_failed_groups(session=session)
    assert group.signers == (BULK,) and group.from_domain == "cemig.com.br" and group.utility == "cemig"
    assert group.count == 2 and group.label == f"2 contas assinadas por {BULK} (De: cemig.com.br)"

    outcome = trust_sender(world.pipeline(dns_txt=_dns()), utility="cemig", domain=BULK.upper() + ".", by="ops")
    assert outcome.new and outcome.domain == BULK and outcome.released == 2
    with session_scope(world.engine) as session:
        assert trusted_domains(session=session) == {"cemig": (BULK,)}
        assert dkim_failed_groups(session=session) == []  # released: no longer in the quarantine's groups
    assert world.counts()["Quarantine"] == 0 and world.counts()["INBOX"] == 2

    again = trust_sender(world.pipeline(dns_txt=_dns()), utility="cemig", domain=BULK)
    assert not again.new and again.results == ()  # nothing released twice

    assert world.poll(dns_txt=_dns()).outcomes == {"parsed": 2}
    assert world.poll(dns_txt=_dns()).outcomes == {}
    with session_scope(world.engine) as session:
        assert len(session.exec(select(Invoice)).all()) == 2
        assert {f.status for f in session.exec(select(Forward)).all()} == {"sent"}
        stages = sorted(m.stage for m in session.exec(select(MailMessage)).all())
    assert stages == ["dkim_failed", "dkim_failed", "parsed", "parsed"]  # the old rows stay as history
    assert len(world.smtp.messages) == 2  # each bill forwarded once

    assert untrust_sender(world.pipeline(), utility="cemig", domain=BULK)
    third = world.add_unit(3)
    world.deliver(_bulk_only(third))
    assert world.poll(dns_txt=_dns()).outcomes == {"dkim_failed": 1}


def test_a_trust_for_another_utility_or_of_a_non_domain_releases_nothing(world):
    unit = world.add_unit(1)
    world.deliver(_bulk_only(unit))
    assert world.poll(dns_txt=_dns()).outcomes == {"dkim_failed": 1}
    assert trust_sender(world.pipeline(), utility="light", domain=BULK).released == 0
    with pytest.raises(InvalidDomain):
        trust_sender(world.pipeline(), utility="cemig", domain="not a domain")
    with session_scope(world.engine) as session:
        assert [g.count for g in dkim_failed_groups(session=session)] == [1]
    assert world.counts()["Quarantine"] == 1


def test_messages_held_before_signers_were_recorded_are_grouped_apart_and_unsigned_ones_say_so(world):
    from sqlalchemy import update

    units = [world.add_unit(n) for n in (1, 2)]
    world.deliver(_bulk_only(units[0]))
    world.deliver(bill_message(units[1].inbox_address, units[1].installation, "2026-11", sign=False))
    assert world.poll(dns_txt=_dns()).outcomes == {"dkim_failed": 2}
    with session_scope(world.engine) as session:
        session.execute(update(MailMessage).where(MailMessage.dkim == "fail").values(dkim_domains=None))
    with session_scope(world.engine) as session:
        labels = sorted(g.label for g in dkim_failed_groups(session=session))
    assert labels == ["1 conta assinada por (assinatura não registrada: retida antes da versão que a registra; "
                      "use `faturas mail retry`) (De: cemig.com.br)",
                      "1 conta assinada por (sem assinatura) (De: cemig.com.br)"]
