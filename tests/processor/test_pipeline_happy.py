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
