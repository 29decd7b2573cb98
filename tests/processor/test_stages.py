"""Stage functions on their own: routing, password rules, DKIM verdicts, leases."""

from __future__ import annotations

import email

import pytest

from processor.authenticate import check_dkim
from processor.errors import Unroutable
from processor.route import normalise_address, route
from processor.unlock import rule_candidates
from simulator.mailer import generate_dkim_key
from storage.engine import session_scope
from storage.mail import acquire_lease, release_lease
from tests.processor.mime import bill_message, cemig_key, dns_for


def _msg(headers: str):
    return email.message_from_string(headers + "\n\nbody")


def test_addresses_are_normalised_and_plus_tags_dropped():
    assert normalise_address(" <UC-1+Cemig@Faturas.Example.com> ") == "uc-1@faturas.example.com"


def test_envelope_headers_win_and_ambiguity_is_never_guessed():
    units = {"a@f.example": 1, "b@f.example": 2}
    assert route(_msg("Delivered-To: b@f.example\nTo: a@f.example"), units_by_address=units).unit_id == 2
    assert route(_msg("To: x@f.example\nCc: A+x@F.example"), units_by_address=units).unit_id == 1
    with pytest.raises(Unroutable, match="several units"):
        route(_msg("To: a@f.example, b@f.example"), units_by_address=units)
    with pytest.raises(Unroutable, match="no unit"):
        route(_msg("To: z@f.example"), units_by_address=units)


def test_password_rules_expand_and_drop_rules_with_missing_fields():
    rules = ("{document[0:5]}", "{installation}", "{uc_code}", "x{document[-4:]}")
    assert rule_candidates(rules, document="52998224725", installation="3000055479", uc_code=None) == [
        "52998", "3000055479", "x4725"]


def test_dkim_pass_fail_none_and_alignment():
    raw = bill_message("a@b.example", "3000000001", "2026-10")
    dns = dns_for(cemig_key())
    assert check_dkim(raw, domains=["cemig.com.br"], dns_txt=dns).status == "pass"
    assert check_dkim(raw, domains=["enel.com.br"], dns_txt=dns).status == "fail"
    tampered = raw.replace(b"Subject: Sua conta", b"Subject: Nossa conta")
    assert tampered != raw and check_dkim(tampered, domains=["cemig.com.br"], dns_txt=dns).status == "fail"
    assert check_dkim(raw, domains=["cemig.com.br"], dns_txt=dns_for()).status == "fail"  # no key published
    unsigned = bill_message("a@b.example", "3000000001", "2026-10", sign=False)
    assert check_dkim(unsigned, domains=["cemig.com.br"], dns_txt=dns).status == "none"
    forged = bill_message("a@b.example", "3000000001", "2026-10", key=generate_dkim_key())
    assert check_dkim(forged, domains=["cemig.com.br"], dns_txt=dns).status == "fail"


def test_a_lease_is_exclusive_until_released_or_expired(engine):
    with session_scope(engine) as session:
        assert acquire_lease(session=session, name="imap:x", owner="otherhost:1:a", seconds=60)
    with session_scope(engine) as session:
        assert not acquire_lease(session=session, name="imap:x", owner="otherhost:2:b", seconds=60)
        assert acquire_lease(session=session, name="imap:x", owner="otherhost:1:a", seconds=60)  # renewal
    with session_scope(engine) as session:
        release_lease(session=session, name="imap:x", owner="otherhost:1:a")
    with session_scope(engine) as session:
        assert acquire_lease(session=session, name="imap:x", owner="otherhost:2:b", seconds=-1)  # already expired
    with session_scope(engine) as session:
        assert acquire_lease(session=session, name="imap:x", owner="otherhost:3:c", seconds=60)


def test_a_dead_local_holder_is_taken_over_at_once(engine):
    import socket
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = f"{socket.gethostname()}:{child.stdout.strip()}:zz"
    with session_scope(engine) as session:
        assert acquire_lease(session=session, name="outbox", owner=dead, seconds=600)
    with session_scope(engine) as session:
        assert acquire_lease(session=session, name="outbox", owner="me:1:x", seconds=600)


def test_cemig_tries_the_holders_first_four_document_digits_by_default():
    from processor.config import MailSettings

    rules = MailSettings().pdf_password_rules["cemig"]
    assert rules == ("{document[0:4]}",)
    assert rule_candidates(rules, document="52998224725", installation=None, uc_code="000453314201850") == ["5299"]
    configured = MailSettings(pdf_password_rules={"cemig": ("{document[0:5]}",)}).pdf_password_rules
    assert configured == {"cemig": ("{document[0:5]}",)}


def test_every_dkim_signature_is_checked_and_any_valid_one_of_the_utility_passes():
    from tests.processor.mime import sign_bytes

    bulk = generate_dkim_key(selector="s1", domain="bulk-mailer.example")
    utility_signed = bill_message("a@b.example", "3000000001", "2026-10")
    twice = sign_bytes(utility_signed, bulk)  # the bulk sender's signature on top, the utility's second
    assert twice.index(b"d=bulk-mailer.example") < twice.index(b"d=cemig.com.br")
    result = check_dkim(twice, domains=["cemig.com.br"], dns_txt=dns_for(cemig_key(), bulk))
    assert (result.status, result.domain) == ("pass", "cemig.com.br")
    # The bulk sender's key unpublished (its signature cannot verify): the utility's still passes.
    assert check_dkim(twice, domains=["cemig.com.br"], dns_txt=dns_for(cemig_key())).status == "pass"
    # Only the bulk sender's signature is valid: no pass, and the reason names every signing domain.
    failed = check_dkim(twice, domains=["cemig.com.br"], dns_txt=dns_for(bulk))
    assert failed.status == "fail" and "bulk-mailer.example" in failed.reason and "cemig.com.br" in failed.reason
    alone = sign_bytes(bill_message("a@b.example", "3000000001", "2026-10", sign=False), bulk)
    assert check_dkim(alone, domains=["cemig.com.br"], dns_txt=dns_for(cemig_key(), bulk)).status == "fail"
