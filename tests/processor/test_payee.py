"""The payee check: a bill whose barcode or PIX QR pays anyone but CEMIG is stored, alerted and never forwarded.

The forged bills are the simulator's 2026 bills drawn again with one thing changed: the barcode's company
code, or the PIX BR Code's key and merchant. They go through the real pipeline (Dovecot, aiosmtpd), signed
with CEMIG's DKIM key: authenticity of the e-mail does not make the payment data honest.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from sqlmodel import select

from processor.payee import mismatches
from processor.pix import crc16, parse, read_pix, with_crc
from simulator.bills.billing import build_document
from simulator.bills.codes import arrecadacao_barcode, linha_digitavel
from simulator.bills.pix import CEMIG_PIX_KEY, br_code
from simulator.bills.render_2026 import render_2026
from storage.engine import session_scope
from storage.invoices import list_invoices
from storage.mail_models import Forward, Invoice, MailMessage
from tests.processor.mime import bill, bill_message, profile
from tests.samples import sample_path

FRAUD_KEY = "fraude@example.com"


def _forged(installation: str, cycle: str, *, company: str | None = None, pix_key: str | None = None,
            merchant: str = "CEMIG D."):
    """The generated bill of (installation, cycle) with its barcode's company code or its PIX payee changed."""
    doc = build_document(profile(installation), cycle)
    if company is not None:
        barcode = arrecadacao_barcode(amount=doc.total, free_field=doc.barcode[19:], company=company)
        linha = linha_digitavel(barcode)
        doc = dataclasses.replace(doc, barcode=barcode, linha_digitavel=linha,
                                  bill=doc.bill.model_copy(update={"barcode": linha}))
    pix = None
    if pix_key is not None:
        pix = br_code(amount=f"{doc.total:.2f}", reference_month=doc.bill.reference_month,
                      due_date=doc.bill.due_date, barcode=doc.barcode, key=pix_key, merchant=merchant)
    pdf = render_2026(doc, conta_digital=True, pix=pix)
    return dataclasses.replace(bill(installation, cycle), pdf=pdf, plain_pdf=pdf)


def test_the_crc_is_ccitt_false_and_a_br_code_round_trips():
    assert crc16(b"123456789") == 0x29B1  # the CRC-16/CCITT-FALSE check value
    payload = br_code(amount="107.59", reference_month="2026-11", due_date="2026-12-15", barcode="8" * 19 + "1" * 25)
    pix = parse(payload)
    assert pix is not None and pix.crc_valid and pix.key == CEMIG_PIX_KEY and pix.merchant == "CEMIG D."
    assert pix.amount == Decimal("107.59") and pix.txid == "1" * 25 and pix.city == "Belo Horizonte"
    assert pix.description == "Conta Ref NOV/26 Vencimento 15/12/26"
    tampered = payload.replace("107.59", "107.95")
    assert parse(tampered).crc_valid is False
    assert parse("not an EMV payload") is None and parse(with_crc("000201")) is None  # no PIX account template


def test_the_real_2026_bill_pays_cemig_by_pix_for_its_printed_total():
    path = sample_path("4533142018-04-2026")
    if not path.is_file():
        pytest.skip(f"real sample not found: {path}")
    pix, qr_codes = read_pix(path.read_bytes())
    assert qr_codes >= 2  # the NF3e QR and the PIX one
    assert pix is not None and pix.crc_valid and pix.key == CEMIG_PIX_KEY and pix.merchant == "CEMIG D."
    assert pix.amount == Decimal("644.54")
    assert mismatches("cemig", barcode=None, pix=[pix]) == []


def test_a_generated_2026_bill_carries_a_real_br_code_that_matches_its_barcode():
    generated = bill("3000000001", "2026-11")
    pix, _ = read_pix(generated.plain_pdf)
    assert pix is not None and pix.crc_valid and pix.amount == Decimal(generated.bill.amount_due)
    linha = generated.bill.barcode
    assert pix.txid == "".join(linha[i:i + 11] for i in range(0, 48, 12))[19:]
    assert mismatches("cemig", barcode=linha, pix=[pix]) == []


def test_alternative_cemig_keys_and_names_pass_and_anyone_else_fails():
    ok = parse(br_code(amount="1.00", reference_month="2026-01", due_date="2026-02-01", barcode="8" * 44,
                       key="06.981.180/0001-16", merchant="Cemig Distribuição S.A."))
    assert mismatches("cemig", barcode=None, pix=[ok]) == []
    wrong = parse(br_code(amount="1.00", reference_month="2026-01", due_date="2026-02-01", barcode="8" * 44,
                          key=FRAUD_KEY, merchant="CEMIG D."))
    assert mismatches("cemig", barcode=None, pix=[wrong]) == [f"PIX key {FRAUD_KEY!r} is not the utility's"]
    assert mismatches("cemig", barcode=None, pix=[ok, wrong]) == [f"PIX key {FRAUD_KEY!r} is not the utility's"]


def _check_mismatch(world, forged, unit):
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-11", generated=forged))
    assert world.poll().outcomes == {"payee_mismatch": 1}
    with session_scope(world.engine) as session:
        invoice = session.exec(select(Invoice)).one()
        assert "payee_mismatch" in invoice.review_reasons and invoice.status == "needs_review"
        assert session.exec(select(Forward)).all() == []
        message = session.exec(select(MailMessage)).one()
    assert message.dkim == "pass" and message.stage == "payee_mismatch"
    assert "NÃO foi encaminhada" in message.user_message
    assert world.smtp.messages == [] and world.counts()["Quarantine"] == 1
    assert world.poll().outcomes == {} and world.smtp.messages == []
    return message


def test_a_bill_whose_barcode_pays_another_company_is_stored_and_never_forwarded(world):
    unit = world.add_unit(1)
    message = _check_mismatch(world, _forged(unit.installation, "2026-11", company="0999"), unit)
    assert "barcode company code 0999" in message.error and "código de barras" in message.user_message


def test_a_bill_whose_pix_pays_another_key_is_stored_and_never_forwarded(world):
    unit = world.add_unit(1)
    message = _check_mismatch(world, _forged(unit.installation, "2026-11", pix_key=FRAUD_KEY), unit)
    assert FRAUD_KEY in message.error and "QR code Pix" in message.user_message


def test_a_forged_bill_after_the_genuine_one_does_not_replace_it(world):
    unit = world.add_unit(1)
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-11"))
    assert world.poll().outcomes == {"parsed": 1} and len(world.smtp.messages) == 1
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-11",
                               generated=_forged(unit.installation, "2026-11", pix_key=FRAUD_KEY,
                                                 merchant="PAGAMENTOS LTDA")))
    assert world.poll().outcomes == {"payee_mismatch": 1} and len(world.smtp.messages) == 1
    with session_scope(world.engine) as session:
        (current,) = list_invoices(session=session, unit_id=unit.id)
        assert current.status == "parsed" and current.version == 1
        fake = session.exec(select(Invoice).where(Invoice.id != current.id)).one()
        assert fake.version == 2 and fake.superseded_by_id == current.id


def test_a_pix_amount_other_than_the_printed_total_is_a_review_reason_not_a_payee_mismatch():
    from processor.bill import read_bill
    from processor.types import UnlockedPdf

    doc = build_document(profile("3000000001"), "2026-11")
    pix = br_code(amount=f"{doc.total + 1:.2f}", reference_month=doc.bill.reference_month,
                  due_date=doc.bill.due_date, barcode=doc.barcode)
    pdf = render_2026(doc, conta_digital=True, pix=pix)
    read = read_bill(UnlockedPdf(filename="f.pdf", original=pdf, readable=pdf), utility="cemig",
                     installations=("3000000001",), uc_code_known=False)
    assert read.pix is not None and read.pix.amount == doc.total + 1
    assert read.needs_review and "pix_amount_mismatch" in read.review_reasons and read.payee_mismatch == ()
    genuine = bill("3000000001", "2026-11").plain_pdf
    ok = read_bill(UnlockedPdf(filename="f.pdf", original=genuine, readable=genuine), utility="cemig",
                   installations=("3000000001",), uc_code_known=False)
    assert ok.pix is not None and "pix_amount_mismatch" not in ok.review_reasons and not ok.needs_review


def test_a_2024_layout_bill_whose_barcode_pays_another_company_is_a_payee_mismatch_without_a_qr():
    from processor.bill import read_bill
    from processor.types import UnlockedPdf
    from simulator.bills.render import render

    doc = build_document(profile("3000000001"), "2025-06")
    barcode = arrecadacao_barcode(amount=doc.total, free_field=doc.barcode[19:], company="0777")
    linha = linha_digitavel(barcode)
    doc = dataclasses.replace(doc, barcode=barcode, linha_digitavel=linha,
                              bill=doc.bill.model_copy(update={"barcode": linha}))
    pdf = render(doc, conta_digital=True)
    read = read_bill(UnlockedPdf(filename="f.pdf", original=pdf, readable=pdf), utility="cemig",
                     installations=("3000000001",))
    assert read.bill.layout != "cemig-2026" and read.pix is None  # no QR decoded on the text-only layouts
    assert read.payee_mismatch == ("barcode company code 0777, not 0138",)
    assert "payee_mismatch" in read.review_reasons and read.needs_review


def test_a_second_pix_qr_added_beside_the_genuine_one_is_a_payee_mismatch():
    import io

    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen.canvas import Canvas

    from processor.bill import read_bill
    from processor.types import UnlockedPdf
    from simulator.bills.render_2026 import _pix_qr

    generated = bill("3000000001", "2026-11")
    truth = generated.bill
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(595, 842))
    # drawn in a blank area (right of the page, below the "Reservado ao Fisco" block), as a forger would
    _pix_qr(canvas, 460.0, 180.0, 60.0, br_code(amount=truth.amount_due, reference_month=truth.reference_month,
                                                 due_date=truth.due_date, barcode="8" * 44, key=FRAUD_KEY))
    canvas.showPage()
    canvas.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(generated.plain_pdf)))
    writer.pages[0].merge_page(PdfReader(io.BytesIO(buffer.getvalue())).pages[0])
    out = io.BytesIO()
    writer.write(out)
    pdf = out.getvalue()
    read = read_bill(UnlockedPdf(filename="f.pdf", original=pdf, readable=pdf), utility="cemig",
                     installations=("3000000001",), uc_code_known=False)
    assert read.payee_mismatch == (f"PIX key {FRAUD_KEY!r} is not the utility's",)
    assert "payee_mismatch" in read.review_reasons
