"""The generator: determinism, month-to-month consistency, arithmetic, codes, variants, encryption."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import replace
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
from pypdf import PasswordType, PdfReader

from simulator.bills import model
from simulator.bills.billing import build_document
from simulator.bills.codes import (
    access_key_is_valid,
    format_linha_digitavel,
    linha_digitavel_amount,
    linha_digitavel_is_valid,
)
from simulator.bills.formats import br_number
from simulator.bills.generator import encrypt_pdf, generate_bill
from tests.simulator.bills.bill_profiles import GD_COMPANY, GD_HOME, PLAIN_HOME, PROFILES

CYCLES = [f"{year}-{month:02d}" for year in (2025, 2026) for month in range(1, 13)]


def _text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return document[0].get_textpage().get_text_range().replace("\r\n", "\n")
    finally:
        document.close()


def _clear_caches() -> None:
    for function in (model.traits, model.reading_date, model._walk_from_epoch):
        function.cache_clear()


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.installation)
def test_same_seed_and_cycle_give_the_same_bytes_and_truth(profile) -> None:
    first = generate_bill(profile, "2026-11")
    _clear_caches()
    second = generate_bill(profile, "2026-11")
    assert first.plain_pdf == second.plain_pdf
    assert first.bill == second.bill
    assert first.plain_pdf.startswith(b"%PDF-")


def test_another_seed_gives_another_bill() -> None:
    other = generate_bill(replace(GD_COMPANY, seed=GD_COMPANY.seed + 1), "2026-11")
    assert other.bill.consumption_kwh != generate_bill(GD_COMPANY, "2026-11").bill.consumption_kwh


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.installation)
def test_consecutive_months_chain(profile) -> None:
    # The truth only (build_document is what generate_bill draws), so the chain stays fast.
    bills = [build_document(profile, cycle) for cycle in CYCLES]
    for before, after in zip(bills, bills[1:], strict=False):
        b, a = before.bill, after.bill
        assert a.reading.previous == b.reading.current
        assert b.reading.next == a.reading.current
        assert a.meter.previous == b.meter.current
        assert a.meter.id == b.meter.id
        shared = min(len(a.history) - 1, len(b.history))  # 13 rows until DEZ/2025, 12 in the 2026 design
        assert [h.model_dump() for h in a.history[1 : shared + 1]] == [h.model_dump() for h in b.history[:shared]]
        if profile.has_generation:
            assert b.scee is not None and a.scee is not None
            balance = Decimal(b.scee.credit_balance_kwh) + after.injected_kwh - Decimal(a.scee.compensated_kwh)
            assert Decimal(a.scee.credit_balance_kwh) == balance
            assert after.injected_kwh > 0
        assert a.reference_month > b.reference_month


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.installation)
def test_each_bill_is_internally_consistent(profile) -> None:
    for cycle in CYCLES[::5]:
        bill = generate_bill(profile, cycle).bill
        amounts = [Decimal(item.amount) for item in bill.items]
        assert sum(amounts) == Decimal(bill.items_total) == Decimal(bill.amount_due)
        for item in bill.items:
            if item.quantity is not None:
                expected = (Decimal(item.quantity) * Decimal(item.unit_price)).quantize(Decimal("0.01"))
                assert abs(Decimal(item.amount)) == expected
        assert bill.items[-1].description == "Contrib Ilum Publica Municipal"
        assert bill.public_lighting == bill.items[-1].amount
        consumption = Decimal(bill.meter.current) - Decimal(bill.meter.previous)
        assert consumption == Decimal(bill.consumption_kwh) == Decimal(bill.history[0].kwh)
        assert bill.history[0].month == bill.reference_month and bill.history[0].days == bill.reading.days
        assert len(bill.history) == (12 if bill.reference_month >= "2026-01" else 13)
        assert bill.reading.previous < bill.reading.current < bill.issue_date < bill.due_date
        assert bill.reading.current < bill.reading.next
        icms = bill.taxes["icms"]
        assert Decimal(icms.value) == (Decimal(icms.base) * Decimal(icms.rate) / 100).quantize(Decimal("0.01"))
        assert [flag.month for flag in bill.flags][-1] == bill.reference_month


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.installation)
def test_linha_digitavel_encodes_the_total_with_valid_check_digits(profile) -> None:
    for cycle in CYCLES[::3]:
        generated = generate_bill(profile, cycle)
        digits = generated.bill.barcode
        assert digits is not None and len(digits) == 48 and digits.startswith("836")
        assert linha_digitavel_is_valid(digits)
        assert linha_digitavel_amount(digits) == Decimal(generated.bill.amount_due)
        assert digits.endswith(generated.bill.automatic_debit_code[-11:] + digits[-1])
        assert format_linha_digitavel(digits) in _text(generated.plain_pdf)
        corrupted = digits[:20] + str((int(digits[20]) + 1) % 10) + digits[21:]
        assert not linha_digitavel_is_valid(corrupted)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.installation)
def test_access_key_check_digit_and_fields(profile) -> None:
    bill = generate_bill(profile, "2026-11").bill
    key = bill.access_key
    assert key is not None and access_key_is_valid(key)
    assert key[:2] == "31" and key[6:20] == "06981180000116" and key[20:22] == "66"
    assert key[2:6] == bill.issue_date[2:4] + bill.issue_date[5:7]
    assert key[22:25] == bill.series and key[25:34] == bill.invoice_number
    assert not access_key_is_valid(key[:43] + str((int(key[43]) + 1) % 10))


def test_unit_without_generation_has_no_scee() -> None:
    generated = generate_bill(PLAIN_HOME, "2025-11")
    text = _text(generated.plain_pdf)
    assert generated.bill.scee is None
    assert [item.description for item in generated.bill.items] == [
        "Energia Elétrica",
        "Contrib Ilum Publica Municipal",
    ]
    assert "SALDO ATUAL DE GERAÇÃO" not in text
    assert "SCEE" not in text and "compensada" not in text
    assert Decimal(generated.bill.items[0].quantity) == max(Decimal(generated.bill.consumption_kwh), Decimal(30))


def test_unit_with_generation_pays_at_least_the_availability_minimum() -> None:
    bill = generate_bill(GD_COMPANY, "2025-11").bill
    energy, scee, compensated = bill.items[:3]
    assert (energy.description, scee.description, compensated.description) == (
        "Energia Elétrica",
        "Energia SCEE s/ ICMS",
        "Energia compensada GD I",
    )
    assert Decimal(energy.quantity) >= model.MINIMUM_KWH["trifasico"]
    assert Decimal(compensated.amount) < 0 < Decimal(scee.amount)
    assert bill.scee.compensated_kwh == compensated.quantity
    assert Decimal(energy.quantity) + Decimal(compensated.quantity) == Decimal(bill.consumption_kwh)
    assert "SALDO ATUAL DE GERAÇÃO: " in _text(generate_bill(GD_COMPANY, "2025-11").plain_pdf)


def test_text_shows_the_truth_in_pt_br_formats() -> None:
    generated = generate_bill(GD_COMPANY, "2025-11")
    bill, text = generated.bill, _text(generated.plain_pdf)
    amount = br_number(Decimal(bill.amount_due))
    assert re.search(rf"NOV/2025 \d\d/12/2025 {re.escape(amount)}", text)
    assert f"R${amount}" in text
    assert f"NOTA FISCAL Nº {bill.invoice_number} - SÉRIE 000" in text
    assert f" {bill.customer_number} {bill.installation}" in text
    assert "CNPJ 11.222.3**/****-**" in text
    assert "Comercial Outros serviços Convencional B3" in text
    assert re.search(r"Trifásico e outras atividades \d\d/10 \d\d/11 \d\d \d\d/12", text)
    assert re.search(r"(?m)^NOV/25 \d{1,3}(\.\d{3})? \d+,\d\d \d\d$", text)
    assert "Novembro/2025" in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_pdftotext_layout_reads_the_same_rows(tmp_path) -> None:
    generated = generate_bill(GD_COMPANY, "2025-11")
    path = tmp_path / "bill.pdf"
    path.write_bytes(generated.plain_pdf)
    layout = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True)
    lines = [" ".join(line.split()) for line in layout.stdout.splitlines()]
    assert any(
        re.fullmatch(r"Energia SCEE s/ ICMS kWh [\d.]+ 0,\d{8} [\d.]+,\d\d( [\d.,]+){4} 0,\d{8}", line)
        for line in lines
    )
    assert any(line.startswith("Nº DO CLIENTE Nº DA INSTALAÇÃO") for line in lines)
    assert any(line == f"{generated.bill.customer_number} {generated.bill.installation}" for line in lines)
    assert any(line.startswith("SALDO ATUAL DE GERAÇÃO:") for line in lines)


def test_encrypted_pdf_opens_only_with_the_password() -> None:
    generated = generate_bill(GD_HOME, "2026-11")
    assert generated.encrypted and generated.pdf != generated.plain_pdf
    reader = PdfReader(io.BytesIO(generated.pdf))
    assert reader.is_encrypted
    encrypt = reader.trailer["/Encrypt"].get_object()
    assert (encrypt["/V"], encrypt["/R"]) == (5, 6)  # AES-256, revision 6
    assert encrypt["/CF"]["/StdCF"]["/CFM"] == "/AESV3"
    assert reader.decrypt("wrong") == PasswordType.NOT_DECRYPTED
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(generated.pdf)
    reader = PdfReader(io.BytesIO(generated.pdf))
    assert reader.decrypt(GD_HOME.pdf_password) != PasswordType.NOT_DECRYPTED
    assert "SALDO ATUAL DE GERAÇÃO" in reader.pages[0].extract_text()
    opened = pdfium.PdfDocument(generated.pdf, password=GD_HOME.pdf_password)
    assert opened[0].get_textpage().get_text_range().replace("\r\n", "\n") == _text(generated.plain_pdf)
    opened.close()


def test_unprotected_profile_gets_the_plain_pdf() -> None:
    generated = generate_bill(GD_COMPANY, "2026-11")
    assert not generated.encrypted and generated.pdf is generated.plain_pdf
    assert not PdfReader(io.BytesIO(generated.pdf)).is_encrypted


def test_encrypt_pdf_refuses_an_empty_password() -> None:
    with pytest.raises(ValueError, match="empty password"):
        encrypt_pdf(generate_bill(PLAIN_HOME, "2026-11").plain_pdf, "")


@pytest.mark.parametrize("cycle", ["2026-13", "2026/11", "26-11", "2018-06"])
def test_bad_cycles_are_refused(cycle) -> None:
    with pytest.raises(ValueError, match="cycle"):
        generate_bill(GD_COMPANY, cycle)


def test_every_block_is_visible_when_rendered() -> None:
    """Text that extractors read must also be painted (the barcode's hidden glyph line must not leak)."""
    document = pdfium.PdfDocument(generate_bill(GD_COMPANY, "2025-11").plain_pdf)
    image = document[0].render(scale=1).to_pil().convert("L")
    document.close()
    height = image.height
    regions = {  # (x0, y0, x1, y1) in PDF points from the bottom-left corner
        "customer": (17, 730, 230, 790),
        "reference": (245, 765, 575, 780),
        "invoice": (325, 690, 575, 760),
        "classification": (20, 640, 575, 670),
        "items": (20, 540, 575, 600),
        "technical": (245, 375, 575, 405),
        "general": (245, 250, 575, 310),
        "history": (17, 130, 230, 270),
        "footer": (130, 60, 545, 100),
    }
    for name, (x0, y0, x1, y1) in regions.items():
        crop = image.crop((x0, height - y1, x1, height - y0))
        dark = sum(crop.histogram()[:128])
        assert dark > 50, f"the {name} block renders blank"
