"""Generated bills built to trigger each alert, each beside a normal twin (the same unit without the anomaly).

Every case is (installation, the bills' cycles, the profile that triggers the alert, its normal twin).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from simulator.bills.profile import InstallationProfile
from tests.processor.mime import profile
from tests.reports.client_bills import plant


def _unit(installation: str, **changes) -> InstallationProfile:
    return dataclasses.replace(profile(installation), **changes)


LAST_SEVEN = [f"2026-{m:02d}" for m in range(5, 12)]
CASES: dict[str, tuple[str, list[str], InstallationProfile, InstallationProfile]] = {
    # nov/26 at twice the usual consumption (a fault): 462 kWh against a 12-month average near 200 kWh.
    "consumption_spike": ("3000000011", ["2026-11"], _unit("3000000011", consumption_boost=(("2026-11", 200),)),
                          _unit("3000000011")),
    # A unit without solar whose nov/25 consumption was half the usual: nov/26's amount is far above it.
    "amount_spike": ("3000000018", ["2025-11", "2026-11"],
                     _unit("3000000018", has_generation=False, consumption_boost=(("2025-11", 50),)),
                     _unit("3000000018", has_generation=False)),
    # A 9 kWp plant that keeps all its credits: the balance grows every month; the twin is the client's plant,
    # which shares 65 % of them with its beneficiaries.
    "credits_growing": ("3000000012", LAST_SEVEN,
                        _unit("3000000012", kwp=Decimal("9.00"), credit_share=Decimal(100)),
                        dataclasses.replace(plant(), installation="3000000012")),
    # nov/26 billed without applying the credits (a billing error) while 145 kWh were available.
    "credits_unused": ("3000000013", ["2026-11"], _unit("3000000013", uncompensated=("2026-11",)),
                       _unit("3000000013")),
    # nov/26 billed by the average: the meter was not read.
    "reading_estimated": ("3000000015", ["2026-11"], _unit("3000000015", reading_basis="average"),
                          _unit("3000000015")),
}
