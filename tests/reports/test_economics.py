"""Savings per bill and month by month, checked against figures computed by hand from real bills' own lines."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from reports.economics import bill_economics, injected_kwh
from reports.monthly import client_report, monthly_rows
from storage.mail_models import Invoice

GOLDEN = Path(__file__).resolve().parents[1] / "processor" / "parse" / "golden"


def _golden(name: str) -> dict:
    return json.loads((GOLDEN / f"{name}.expected.json").read_text(encoding="utf-8"))


def _invoice(data: dict, unit_id: int = 1) -> Invoice:
    scee = data.get("scee") or {}
    return Invoice(unit_id=unit_id, reference_month=data["reference_month"], status="parsed", fingerprint="f",
                   pdf_sha256="0" * 64, source="email", data=data, amount_due=Decimal(data["amount_due"]),
                   consumption_kwh=Decimal(data["consumption_kwh"]),
                   compensated_kwh=Decimal(scee["compensated_kwh"]) if scee.get("compensated_kwh") else None,
                   credit_balance_kwh=Decimal(scee["credit_balance_kwh"]) if scee.get("credit_balance_kwh") else None)


def test_a_real_gd_bill_without_solar_by_hand():
    """OUT/2023, 3004298116 (a real CEMIG bill, GD I): by hand from its printed lines.

    Energia Elétrica 100 kWh × 0,95254203 = 95,24; Energia SCEE s/ ICMS 1.043 kWh = 530,00; Energia compensada
    GD I = −508,28 → energy items 116,96. Measured consumption 1.143 kWh × 0,95254203 = 1.088,7555...
    Without solar = 160,69 − 116,96 + 1.088,76 = 1.132,49; savings = 1.132,49 − 160,69 = 971,80.
    Public lighting (41,19), the fine, interest and IPCA correction stay as they are.
    """
    data = _golden("3004298116-10-2023")
    economics = bill_economics(data, amount_due=Decimal("160.69"), consumption_kwh=Decimal("1143"))
    assert economics.tariff == Decimal("0.95254203")
    assert economics.energy_items == Decimal("116.96")
    assert economics.without_solar == Decimal("1132.49")
    assert economics.savings == Decimal("971.80")
    assert economics.availability_charge is None and economics.fio_b is None


def test_a_bill_without_a_full_tariff_line_gives_no_savings_rather_than_a_guess():
    data = {"items": [{"description": "Energia SCEE ISENTA", "unit": "kWh", "quantity": "300",
                       "unit_price": "0.48", "amount": "144.00"},
                      {"description": "Energia compensada GD I", "unit": "kWh", "quantity": "300",
                       "unit_price": "0.48", "amount": "-144.00"},
                      {"description": "Contrib Ilum Publica Municipal", "amount": "30.37"}]}
    economics = bill_economics(data, amount_due=Decimal("30.37"), consumption_kwh=Decimal("300"))
    assert economics.tariff is None and economics.without_solar is None and economics.savings is None
    assert economics.energy_items == Decimal("0.00")


def test_availability_charge_fio_b_and_injected_energy_are_read_where_the_bill_itemises_them():
    """2026 item names (reference §5.3): Custo de Disponibilidade and its Ajuste; a Fio B line; injected kWh."""
    data = {"items": [{"description": "Energia Elétrica", "unit": "kWh", "quantity": "100",
                       "unit_price": "1.17263918", "amount": "117.26"},
                      {"description": "Custo de Disponibilidade", "amount": "117.25"},
                      {"description": "Ajuste Custo Disponibilidade", "amount": "-92.21"},
                      {"description": "Componente Fio B", "amount": "12.34"}],
            "injection": {"id": "PRB212101622", "previous": "919", "current": "1911", "multiplier": "1", "kwh": "992"}}
    economics = bill_economics(data, amount_due=Decimal("200.00"), consumption_kwh=Decimal("300"))
    assert economics.availability_charge == Decimal("25.04")
    assert economics.fio_b == Decimal("12.34")
    # 200,00 − (117,26 + 117,25 − 92,21) + 300 × 1,17263918 = 57,70 + 351,79 = 409,49
    assert economics.without_solar == Decimal("409.49") and economics.savings == Decimal("209.49")
    assert injected_kwh(data) == Decimal("992")


def test_twelve_real_months_accumulate_their_savings():
    """Every 2023 bill of 3004298116: cumulative savings are the running sum of each month's own figure."""
    invoices = [_invoice(_golden(f"3004298116-{m:02d}-2023")) for m in range(1, 13)]
    rows = [r for r in monthly_rows(invoices) if r.source == "fatura"]
    assert [r.month for r in rows] == [f"2023-{m:02d}" for m in range(1, 13)]
    running = Decimal(0)
    for row in rows:
        if row.savings is not None:
            running += row.savings
            assert row.cumulative_savings == running
    assert sum(1 for r in rows if r.savings is not None) >= 10
    october = next(r for r in rows if r.month == "2023-10")
    assert october.savings == Decimal("971.80") and october.credit_balance_kwh == Decimal("6357.77")


def test_a_client_groups_its_units_and_adds_them_month_by_month():
    first = _invoice(_golden("3004298116-10-2023"), unit_id=1)
    second = _invoice(_golden("3000055479-10-2023"), unit_id=2)
    report = client_report([(1, "Instalação 3004298116", [first]), (2, "Instalação 3000055479", [second])])
    assert [u.unit_id for u in report.units] == [1, 2]
    total = next(r for r in report.totals if r.month == "2023-10")
    assert total.amount_due == first.amount_due + second.amount_due
    parts = [next(r for r in u.rows if r.month == "2023-10") for u in report.units]
    assert total.savings == sum((p.savings for p in parts if p.savings is not None), Decimal(0))
    assert total.source == "fatura"


def test_expected_generation_is_set_per_calendar_month_and_compared_with_injected_energy():
    from reports.monthly import generation_ratio
    from storage.errors import UnitInputError
    from storage.generation import parse_plan

    assert parse_plan(["450"]) == [Decimal("450")] * 12
    plan = parse_plan([str(300 + 10 * m) for m in range(12)])
    assert plan[0] == Decimal("300") and plan[11] == Decimal("410")
    assert parse_plan(["1.234,5"]) == [Decimal("1234.5")] * 12
    for bad in (["1", "2"], ["-5"], ["muito"], ["NaN"]):
        try:
            parse_plan(bad)
        except UnitInputError as exc:
            assert "expected_generation" in str(exc)
        else:
            raise AssertionError(f"{bad} was accepted")
    data = _golden("3004298116-10-2023") | {"injection": {"kwh": "390"}}
    (row,) = [r for r in monthly_rows([_invoice(data)], expected=plan) if r.source == "fatura"]
    assert row.expected_generation_kwh == Decimal("390")  # October: the tenth value
    assert row.injected_kwh == Decimal("390") and generation_ratio(row) == Decimal("100.0")
