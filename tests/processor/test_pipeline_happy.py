"""The pipeline end to end against real Dovecot and SMTP: bills stored once, forwarded once, settled."""

from __future__ import annotations

import email
import email.policy

from sqlmodel import select

from storage.engine import session_scope
from storage.mail_models import Forward, Invoice, MailMessage
from storage.models import Unit
from tests.processor.mime import bill_message


def test_a_bill_is_stored_forwarded_once_and_moved_to_processed(world):
    unit = world.add_unit(1)
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10"))

    report = world.poll()
    assert report.accounts[0].outcomes == {"parsed": 1}, report
    assert world.counts() == {"INBOX": 0, "Processed": 1, "Quarantine": 0}
    assert len(world.smtp.messages) == 1
    sent = world.smtp.messages[0]
    assert sent.rcpt_tos == ("cliente1@example.com",)
    forwarded = email.message_from_bytes(sent.content, policy=email.policy.default)
    assert forwarded["From"] == "Faturas <faturas@faturas.example.com>"
    assert forwarded["Reply-To"] == "suporte@integradora.example.com"
    assert "instalação 3000000001" in forwarded["Subject"]
    body = forwarded.get_body(("plain",)).get_content()
    assert "Valor a pagar: R$" in body and "Linha digitável:" in body and "Vencimento:" in body
    # The summary, by hand from the generated bill's lines: energy lines 57,10 + 136,00 − 99,81 − 31,52 = 61,77;
    # 275 kWh × 1,14191401 (Custo de Disponibilidade) = 314,03; without solar 105,14 − 61,77 + 314,03 = 357,40.
    lines = body.replace("\r\n", "\n")
    assert "Resumo de out/26:\n- Valor da fatura: R$\u00a0105,14\n" in lines
    assert "- Economia com energia solar: R$\u00a0252,26 (sem energia solar, seriam R$\u00a0357,40)" in lines
    assert "- Saldo de créditos: 93,99\u00a0kWh" in lines
    attachments = list(forwarded.iter_attachments())
    assert len(attachments) == 1 and attachments[0].get_content().startswith(b"%PDF-")

    with session_scope(world.engine) as session:
        invoice = session.exec(select(Invoice)).one()
        assert invoice.status == "parsed" and invoice.reference_month == "2026-10" and invoice.version == 1
        forward = session.exec(select(Forward)).one()
        assert forward.status == "sent" and forward.message_id == forwarded["Message-ID"]
        message = session.exec(select(MailMessage)).one()
        assert message.stage == "parsed" and message.dkim == "pass" and message.settle_folder == "Processed"
        assert session.get(Unit, unit.id).adhesion_status == "verified"

    again = world.poll()
    assert again.accounts[0].outcomes == {} and len(world.smtp.messages) == 1


def test_forwarded_bills_are_dkim_signed_for_our_domain_when_a_key_is_set(world):
    from simulator.mailer import dkim_verify, generate_dkim_key

    ours = generate_dkim_key(selector="faturas", domain="faturas.example.com")
    unit = world.add_unit(1)
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10"))
    world.poll(dkim_key=ours.private_key_pem)
    (sent,) = world.smtp.messages
    assert sent.content.startswith(b"DKIM-Signature:")
    assert dkim_verify(sent.content, {ours.record_name: ours.dns_txt})


def test_a_unit_with_email_bills_off_gets_its_bill_stored_and_nothing_forwarded(world):
    unit = world.add_unit(1, email_bills_enabled=False)
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10"))
    assert world.poll().outcomes == {"parsed": 1}
    with session_scope(world.engine) as session:
        assert len(session.exec(select(Invoice)).all()) == 1
        assert session.exec(select(Forward)).all() == []
    assert world.smtp.messages == [] and world.counts()["Processed"] == 1


def test_several_mailboxes_are_polled_in_one_pass(world):
    from pydantic import SecretStr

    from processor.config import MailAccount

    first, second = world.add_unit(1), world.add_unit(2)
    other = MailAccount(name="second", host=world.dovecot.host, port=world.dovecot.imap_port, tls="none",
                        user="other", password=SecretStr("other-secret-2"))
    world.settings = world.settings.model_copy(update={"accounts": (*world.settings.accounts, other)})
    world.deliver(bill_message(first.inbox_address, first.installation, "2026-10"))
    world.dovecot.deliver("other", bill_message(second.inbox_address, second.installation, "2026-10"))
    report = world.poll()
    assert [(a.account, a.outcomes) for a in report.accounts] == [("main", {"parsed": 1}), ("second", {"parsed": 1})]
    assert len(world.smtp.messages) == 2 and world.dovecot.counts("other")["Processed"] == 1

