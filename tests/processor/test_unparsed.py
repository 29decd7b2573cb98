"""A new layout is never a lost bill: an authentic bill no layout parser accepts is stored, forwarded and reviewed.

The test's made-up layout is a 2026 bill with its blocks shuffled and relabelled (no header triple, no payment
stub row), drawn into a real PDF: CEMIG's parser refuses it, and the generic extractor reads the amount from
the linha digitável and the due date from its new label.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import io

from reportlab.pdfgen.canvas import Canvas
from sqlmodel import select

from processor.parse.text import pdf_text
from storage.engine import session_scope
from storage.mail_models import Forward, Invoice, MailMessage
from tests.processor.mime import bill, bill_message


def _made_up_layout(installation: str, cycle: str):
    """The generated bill, its text lines shuffled and relabelled, drawn as a new PDF (same truth)."""
    generated = bill(installation, cycle)
    truth = generated.bill
    day, month, year = truth.due_date[8:], truth.due_date[5:7], truth.due_date[:4]
    amount = f"{truth.amount_due.replace('.', ',')}"
    lines = [line for line in pdf_text(generated.plain_pdf).split("\n")
             if f" {amount}" not in line or line.startswith(("TOTAL", "ICMS"))]
    lines = [*reversed(lines), f"Pague até {day}/{month}/{year}".replace("Pague até", "Vence em"),
             f"Referência da conta: NOV/{year}"]
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(595, 842), invariant=True)
    y = 830.0
    for line in lines:
        canvas.setFont("Helvetica", 6)
        canvas.drawString(20, y, line)
        y -= 7.2
    canvas.showPage()
    canvas.save()
    pdf = buffer.getvalue()
    return dataclasses.replace(generated, pdf=pdf, plain_pdf=pdf)


def _message(world) -> MailMessage:
    with session_scope(world.engine) as session:
        return session.exec(select(MailMessage)).one()


def test_an_authentic_bill_in_an_unknown_layout_is_stored_forwarded_and_put_up_for_review(world):
    unit = world.add_unit(1)
    made_up = _made_up_layout(unit.installation, "2026-11")
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-11", generated=made_up))
    assert world.poll().outcomes == {"needs_review": 1}
    with session_scope(world.engine) as session:
        invoice = session.exec(select(Invoice)).one()
        assert invoice.layout == "generic" and invoice.status == "needs_review"
        assert "layout_unknown" in invoice.review_reasons
        assert str(invoice.amount_due) == made_up.bill.amount_due
        assert invoice.due_date.isoformat() == made_up.bill.due_date and invoice.reference_month == "2026-11"
        assert invoice.data["sources"]["amount_due"] == "linha_digitavel"
        assert invoice.data["sources"]["due_date"] == "label"
        assert invoice.data["checks"]["payee_is_utility"] is True
        assert session.exec(select(Forward)).one().status == "sent"
    message = _message(world)
    assert message.stage == "needs_review" and message.dkim == "pass" and "layout_unknown" in message.error
    (sent,) = world.smtp.messages
    forwarded = email.message_from_bytes(sent.content, policy=email.policy.default)
    body = forwarded.get_body(("plain",)).get_content()
    assert "O resumo da fatura não está disponível" in body and "lido do código de barras" in body
    assert next(forwarded.iter_attachments()).get_content() == made_up.pdf
    assert world.poll().outcomes == {} and len(world.smtp.messages) == 1  # forwarded once


def test_with_forward_unparsed_off_or_no_valid_signature_the_unknown_layout_is_quarantined_unforwarded(world):
    unit = world.add_unit(1)
    made_up = _made_up_layout(unit.installation, "2026-11")
    world.settings = world.settings.model_copy(update={"forward_unparsed": False})
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-11", generated=made_up))
    assert world.poll().outcomes == {"unreadable": 1}
    world.settings = world.settings.model_copy(update={"forward_unparsed": True, "dkim_policy": "warn"})
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-11", generated=made_up, sign=False))
    assert world.poll().outcomes == {"unreadable": 1}  # DKIM none: not authentic, never forwarded
    with session_scope(world.engine) as session:
        assert session.exec(select(Invoice)).all() == [] and session.exec(select(Forward)).all() == []
    assert world.smtp.messages == [] and world.counts()["Quarantine"] == 2


def test_the_forward_of_a_bill_whose_month_was_not_found_says_so():
    from processor.config import MailSettings
    from processor.forward import compose
    from storage.mail_models import Forward as ForwardRow
    from storage.models import Unit

    unit = Unit(id=1, installation="3000000001", client_name="Maria", holder_document="52998224725",
                inbox_address="uc-1@x.example", forward_to=["maria@example.com"])
    invoice = Invoice(id=9, unit_id=1, reference_month="", status="needs_review", fingerprint="f", pdf_sha256="d",
                      source="email", layout="generic", data={"due_date": None, "uc_code": None}, amount_due=None)
    forward = ForwardRow(id=1, invoice_id=9, recipient="maria@example.com", message_id="<m@x.example>")
    message = compose(forward=forward, invoice=invoice, unit=unit, pdf=b"%PDF-1.4", settings=MailSettings())
    assert "mês não identificado" in str(message["Subject"])
    body = message.get_payload()[0].get_payload(decode=True).decode()
    assert "O resumo da fatura não está disponível" in body and "lido do código de barras" not in body


def test_an_unknown_layout_whose_barcode_pays_someone_else_is_stored_for_review_and_never_forwarded(world):
    from decimal import Decimal

    from simulator.bills.codes import arrecadacao_barcode, format_linha_digitavel, linha_digitavel

    unit = world.add_unit(1)
    made_up = _made_up_layout(unit.installation, "2026-11")
    real = format_linha_digitavel(made_up.bill.barcode)
    amount = Decimal(made_up.bill.amount_due)
    fake = format_linha_digitavel(linha_digitavel(arrecadacao_barcode(
        amount=amount, free_field="0" * 25, company="0999")))
    lines = [line.replace(real, fake) for line in pdf_text(made_up.pdf).split("\n")]
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(595, 842), invariant=True)
    for i, line in enumerate(lines):
        canvas.setFont("Helvetica", 6)
        canvas.drawString(20, 830 - 7.2 * i, line)
    canvas.showPage()
    canvas.save()
    forged = dataclasses.replace(made_up, pdf=buffer.getvalue(), plain_pdf=buffer.getvalue())
    assert fake in pdf_text(forged.pdf)
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-11", generated=forged))
    assert world.poll().outcomes == {"payee_mismatch": 1}
    with session_scope(world.engine) as session:
        invoice = session.exec(select(Invoice)).one()
        assert invoice.layout == "generic" and "payee_is_utility" in invoice.review_reasons
        assert "payee_mismatch" in invoice.review_reasons
        assert session.exec(select(Forward)).all() == []
    assert world.smtp.messages == []
