"""Each alert fires on bills built to trigger it, and stays quiet on a normal unit's bills."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from reports.alerts import AlertThresholds, unit_alerts
from reports.monthly import monthly_rows
from storage.mail_models import Invoice

TODAY = date(2026, 12, 2)


def _bill(month: str, *, kwh: int = 400, amount: str = "100.00", compensated: int | None = 350,
          balance: str | None = "500", supply: str = "bifasico") -> Invoice:
    data = {"supply_type": supply, "items": [
        {"description": "Energia Elétrica", "unit": "kWh", "quantity": "50", "unit_price": "1.00", "amount": "50.00"},
        {"description": "Contrib Ilum Publica Municipal", "amount": "20.00"}]}
    return Invoice(unit_id=7, reference_month=month, status="parsed", fingerprint="f", pdf_sha256="0" * 64,
                   source="email", data=data, amount_due=Decimal(amount), consumption_kwh=Decimal(kwh),
                   compensated_kwh=None if compensated is None else Decimal(compensated),
                   credit_balance_kwh=None if balance is None else Decimal(balance))


def _year(**newest) -> list[Invoice]:
    """13 normal months (2025-11 … 2026-11) with a steady balance; the newest month takes `newest`."""
    months = [f"{2025 + (m > 12 and 1 or 0)}-{(m - 1) % 12 + 1:02d}" for m in range(11, 24)]
    bills = [_bill(month, balance="500") for month in months[:-1]]
    return [*bills, _bill(months[-1], **newest)]


def _codes(invoices, **kwargs) -> set[str]:
    return {a.code for a in unit_alerts(7, monthly_rows(invoices), today=TODAY, **kwargs)}


def test_a_normal_unit_raises_nothing():
    assert _codes(_year()) == set()


def test_consumption_above_the_twelve_month_average():
    alerts = unit_alerts(7, monthly_rows(_year(kwh=600, compensated=550)), today=TODAY)
    (spike,) = [a for a in alerts if a.code == "consumption_spike"]
    assert spike.month == "2026-11" and spike.actor == "integrator" and "50\u00a0% acima" in spike.detail
    assert _codes(_year(kwh=510, compensated=460)) == set()  # 27,5 % above: under the 30 % default
    assert "consumption_spike" in _codes(_year(kwh=510, compensated=460),
                                         limits=AlertThresholds(consumption_above_average_pct=Decimal(20)))


def test_amount_above_the_same_month_last_year():
    assert _codes(_year(amount="131.00")) == {"amount_spike"}
    assert _codes(_year(amount="129.00")) == set()


def test_credits_growing_month_after_month():
    months = [f"2026-{m:02d}" for m in range(1, 12)]
    growing = [_bill(month, balance=str(500 + 40 * i)) for i, month in enumerate(months)]
    assert "credits_growing" in _codes(growing)
    flat = [_bill(month, balance=str(500 + 40 * i if i != 8 else 100)) for i, month in enumerate(months)]
    assert "credits_growing" not in _codes(flat)


def test_energy_paid_for_while_credits_were_left():
    # 400 kWh measured, 50 kWh availability minimum (bifásico): 350 could be compensated; only 200 were.
    assert _codes(_year(compensated=200)) == {"credits_unused"}
    assert _codes(_year(compensated=200, balance="0")) == set()


@pytest.mark.parametrize("status", ["bill_overdue", "verified"])
def test_a_bill_that_did_not_arrive(status):
    found = _codes(_year(), adhesion_status=status)
    assert ("bill_missing" in found) == (status == "bill_overdue")


@pytest.mark.parametrize(("basis", "cycle"), [("average", "2026-11"), ("estimated", "2025-11"),
                                              ("informed", "2026-11"), (None, "2026-11"), (None, "2025-11")])
def test_a_generated_bill_billed_without_a_meter_reading_raises_reading_estimated(basis, cycle):
    """Generated, printed and parsed: the bill's sentence becomes `reading_basis`, and the alert follows it."""
    import dataclasses

    from processor.parse.registry import PARSERS
    from processor.parse.text import pdf_text
    from simulator.bills.generator import generate_bill
    from tests.processor.mime import profile

    generated = generate_bill(dataclasses.replace(profile("3000000007"), reading_basis=basis), cycle)
    parsed = PARSERS["cemig"](pdf_text(generated.plain_pdf))
    assert parsed.reading_basis == basis == generated.bill.reading_basis
    newest = Invoice(unit_id=7, reference_month=cycle, status="parsed", fingerprint="f", pdf_sha256="0" * 64,
                     source="email", data=parsed.model_dump(mode="json"), amount_due=Decimal(parsed.amount_due),
                     consumption_kwh=Decimal(parsed.consumption_kwh))
    found = [a for a in unit_alerts(7, monthly_rows([newest]), today=TODAY) if a.code == "reading_estimated"]
    assert bool(found) == (basis is not None)
    if basis == "average":
        assert found[0].actor == "integrator" and "pela média" in found[0].detail and found[0].month == cycle
