"""Each alert fires on generated bills built to trigger it (printed, then parsed), and not on their normal twin."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from processor.parse.registry import PARSERS
from processor.parse.text import pdf_text
from reports.alerts import unit_alerts
from reports.monthly import monthly_rows
from simulator.bills.profile import InstallationProfile
from storage.mail_models import Invoice
from tests.reports.alert_bills import CASES
from tests.reports.client_bills import FIRST, generated

TODAY = date(2026, 12, 2)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _invoices(prof: InstallationProfile, cycles: list[str]) -> list[Invoice]:
    out = []
    for cycle in cycles:
        parsed = PARSERS["cemig"](pdf_text(generated(prof, cycle).plain_pdf))
        scee = parsed.scee
        out.append(Invoice(unit_id=7, reference_month=cycle, status="parsed", fingerprint="f", pdf_sha256="0" * 64,
                           source="upload", data=parsed.model_dump(mode="json"),
                           amount_due=Decimal(parsed.amount_due), consumption_kwh=Decimal(parsed.consumption_kwh),
                           compensated_kwh=_decimal(scee.compensated_kwh if scee else None),
                           credit_balance_kwh=_decimal(scee.credit_balance_kwh if scee else None)))
    return out


def _codes(prof: InstallationProfile, cycles: list[str]) -> set[str]:
    return {a.code for a in unit_alerts(7, monthly_rows(_invoices(prof, cycles)), today=TODAY)}


@pytest.mark.parametrize("code", sorted(CASES))
def test_the_alert_fires_on_its_bill_and_not_on_the_normal_twin(code):
    _, cycles, triggering, normal = CASES[code]
    assert code in _codes(triggering, cycles)
    assert _codes(normal, cycles) == set()


def test_a_beneficiary_left_with_less_than_one_kwh_raises_no_credits_unused():
    """The client's first beneficiary ends nov/26 with 0,90 kWh: CEMIG compensates whole kWh only."""
    from tests.reports.client_bills import client_profiles

    (newest,) = _invoices(client_profiles()[FIRST], ["2026-11"])
    assert newest.credit_balance_kwh == Decimal("0.90") and newest.compensated_kwh == Decimal(261)
    assert newest.consumption_kwh - 50 > newest.compensated_kwh  # energy paid for beyond the minimum …
    assert "credits_unused" not in _codes(client_profiles()[FIRST], ["2026-11"])  # … with no usable credit left
