"""The generator's 2026 design: cycles from JAN/2026 get the green layout keyed by the UC code.

What the design must show comes from the reference (cemig-bill-layout.md §5.1, §5.3): the QR code on top,
a consolidated block with the values, the UC code printed dotted with leading zeros dropped, a 12-month
history, the new item names, GD I + GD II rows, `Custo de Disponibilidade` and the `Energia Injetada` row;
its section labels are pictures, so the text layer holds values but no labels.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

import pypdfium2 as pdfium
import pytest

from simulator.bills.billing import build_document
from simulator.bills.cemig2026 import format_uc, gd2_share, uc_code_for
from simulator.bills.generator import generate_bill
from tests.simulator.bills.bill_profiles import GD_COMPANY, GD_HOME, PLAIN_HOME, PROFILES

CYCLES_2026 = [f"2026-{month:02d}" for month in range(1, 13)]
# Labels of the 2024 DANF3E (and the 2026 design's own): pictures in the 2026 design, never text.
LABELS = ["Referente a", "Vencimento", "Valor a pagar", "Nº DO CLIENTE", "Nº DA INSTALAÇÃO", "UNIDADE CONSUMIDORA",
          "Unidade consumidora", "Itens da Fatura", "Classe", "Histórico de Consumo", "Informações Técnicas",
          "Reservado ao Fisco", "Código de Débito Automático", "Total a pagar", "Sua conta de energia"]


def _text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return document[0].get_textpage().get_text_range().replace("\r\n", "\n")
    finally:
        document.close()


def _dark_share(pdf: bytes, box: tuple[float, float, float, float]) -> float:
    """The share of dark pixels in a box given in PDF points from the bottom-left corner (scale 2)."""
    document = pdfium.PdfDocument(pdf)
    image = document[0].render(scale=2).to_pil().convert("L")
    document.close()
    x0, y0, x1, y1 = box
    crop = image.crop((int(2 * x0), int(image.height - 2 * y1), int(2 * x1), int(image.height - 2 * y0)))
    histogram = crop.histogram()
    return sum(histogram[:100]) / sum(histogram)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.installation)
def test_the_layout_changes_in_january_2026(profile):
    before, after = generate_bill(profile, "2025-12").bill, generate_bill(profile, "2026-01").bill
    assert (before.layout, before.installation, before.uc_code) == ("cemig-nf3e-2024", profile.installation, None)
    assert (after.layout, after.installation, after.customer_number) == ("cemig-2026", None, None)
    assert after.uc_code == uc_code_for(profile.installation) and len(after.uc_code) == 15
    assert after.uc_code[10:13] == "018"  # CEMIG's distributor id (REN ANEEL 1.000 art. 659-A)
    assert profile.installation not in after.uc_code  # the sequential part is not the installation number
    assert len(after.history) == 12 and len(before.history) == 13


def test_a_uc_code_given_by_the_portal_is_the_one_printed():
    bill = generate_bill(replace(GD_HOME, uc_code="000453314201850"), "2026-03").bill
    assert bill.uc_code == "000453314201850"
    assert "\n4.533.142.018-50\n" in _text(generate_bill(replace(GD_HOME, uc_code="000453314201850"),
                                                         "2026-03").plain_pdf)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.installation)
def test_the_text_layer_has_the_values_and_none_of_the_labels(profile):
    generated = generate_bill(profile, "2026-11")
    bill, text = generated.bill, _text(generated.plain_pdf)
    for label in LABELS:
        assert label not in text, label
    amount = br(bill.amount_due)
    assert re.search(rf"(?m)^NOV/2026 \d\d/\d\d/2026 {re.escape(amount)}$", text)
    assert re.search(rf"(?m)^{re.escape(format_uc(bill.uc_code))}$", text)  # alone on its line, unlabelled
    assert f"{bill.automatic_debit_code} {format_uc(bill.uc_code)} " in text and f"R$ {amount}" in text
    assert "Novembro/2026 " in text and "DOCUMENTO AUXILIAR DA NOTA FISCAL DE ENERGIA ELÉTRICA ELETRÔNICA" in text
    assert len(re.findall(r"(?m)^(?:JAN|FEV|MAR|ABR|MAI|JUN|JUL|AGO|SET|OUT|NOV|DEZ)/\d\d \d", text)) == 12
    assert re.search(r"(?m)^TOTAL \d", text)
    if profile.has_generation:
        assert re.search(rf"(?m)^Energia Injetada {bill.meter.id} [\d.]+ [\d.]+ 1 [\d.]+$", text)
    else:
        assert "Energia Injetada" not in text and bill.injection is None


def br(value: str) -> str:
    whole, _, cents = value.partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return ".".join(groups) + "," + cents


def test_the_qr_code_is_on_top_and_the_labels_are_painted():
    pdf = generate_bill(GD_COMPANY, "2026-11").plain_pdf
    assert _dark_share(pdf, (506, 760, 566, 820)) > 0.2  # the PIX QR code, top right
    assert _dark_share(pdf, (60, 752, 100, 760)) > 0.01  # "Mês de referência", a picture
    assert _dark_share(pdf, (17, 583, 120, 592)) > 0.01  # the items table's title, a picture
    assert _dark_share(pdf, (520, 300, 580, 340)) < 0.01  # empty paper stays empty


def test_item_names_change_in_may_2026_and_gd_units_pay_the_availability_cost_without_kwh():
    april, may = generate_bill(GD_COMPANY, "2026-04").bill, generate_bill(GD_COMPANY, "2026-05").bill
    assert [item.description for item in april.items][1:3] == ["Energia SCEE s/ ICMS", "Energia compensada GD I"]
    assert [item.description for item in may.items][1:3] == ["Energia compensada ISENTA", "Compensação GD I"]
    first = may.items[0]
    assert first.description == "Custo de Disponibilidade"  # credits cover all but the minimum
    assert (first.unit, first.quantity) == (None, None) and first.unit_price is not None
    assert "Custo de Disponibilidade kWh" not in _text(generate_bill(GD_COMPANY, "2026-05").plain_pdf)


def test_remote_credits_get_a_gd_ii_row_beside_gd_i():
    remote = next(replace(GD_HOME, seed=seed) for seed in range(100) if gd2_share(replace(GD_HOME, seed=seed)))
    bill = generate_bill(remote, "2026-11").bill
    rows = {item.description: item for item in bill.items}
    assert {"Compensação GD I", "Compensação GD II"} <= set(rows)
    total = Decimal(rows["Compensação GD I"].quantity) + Decimal(rows["Compensação GD II"].quantity)
    assert bill.scee is not None and Decimal(bill.scee.compensated_kwh) == total
    assert sum(Decimal(item.amount) for item in bill.items) == Decimal(bill.amount_due)


@pytest.mark.parametrize("profile", [GD_COMPANY, GD_HOME], ids=lambda p: p.installation)
def test_the_injection_register_chains_from_month_to_month(profile):
    bills = [build_document(profile, cycle).bill for cycle in CYCLES_2026]
    for before, after in zip(bills, bills[1:], strict=False):
        assert before.injection is not None and after.injection is not None
        assert after.injection.previous == before.injection.current
        assert Decimal(after.injection.current) - Decimal(after.injection.previous) == Decimal(after.injection.kwh)
        assert Decimal(after.injection.kwh) > 0


def test_2026_bills_are_deterministic_bytes():
    assert generate_bill(PLAIN_HOME, "2026-07").plain_pdf == generate_bill(PLAIN_HOME, "2026-07").plain_pdf
