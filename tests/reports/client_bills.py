"""A generated client for the report tests: one plant and two beneficiaries sharing its injected energy.

The plant (3000000001) keeps 35 % of what it injects; the beneficiaries 3000000002 and 3000000003 receive 35 %
and 30 % (the "rateio" registered with CEMIG). Their bills print what real CEMIG bills print: the plant's
`Energia Injetada` meter row (2026 layout), each unit's compensation rows (a beneficiary's as GD II: remote
credits) and each unit's own `SALDO ATUAL DE GERAÇÃO`.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from functools import lru_cache

from simulator.bills.generator import GeneratedBill, generate_bill
from simulator.bills.profile import InstallationProfile
from tests.processor.mime import profile

MONTHS = [f"{2025 + (m > 12)}-{(m - 1) % 12 + 1:02d}" for m in range(11, 24)]  # 2025-11 … 2026-11
HOLDER = "29141777638"
PLANT, FIRST, SECOND = "3000000001", "3000000002", "3000000003"


def plant() -> InstallationProfile:
    """The generating unit: a 9 kWp plant that keeps 35 % of its injection."""
    return dataclasses.replace(profile(PLANT, holder_document=HOLDER), kwp=Decimal("9.00"),
                               credit_share=Decimal(35))


def beneficiary(installation: str, share: int, **changes) -> InstallationProfile:
    """A unit without a plant that receives `share` % of the plant's injection."""
    return dataclasses.replace(profile(installation, holder_document=HOLDER), has_generation=False, plant=plant(),
                               credit_share=Decimal(share), **changes)


def client_profiles() -> dict[str, InstallationProfile]:
    """The client's three units by installation."""
    return {PLANT: plant(), FIRST: beneficiary(FIRST, 35), SECOND: beneficiary(SECOND, 30)}


@lru_cache(maxsize=256)
def _generated(prof: InstallationProfile, cycle: str) -> GeneratedBill:
    return generate_bill(prof, cycle)


def client_bill(installation: str, cycle: str) -> GeneratedBill:
    """The generated bill of one of the client's units for `cycle`."""
    return _generated(client_profiles()[installation], cycle)


def generated(prof: InstallationProfile, cycle: str) -> GeneratedBill:
    """A generated bill of any profile, cached (generating costs ~25 ms)."""
    return _generated(prof, cycle)
