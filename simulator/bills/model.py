"""The simulated installation over time: reading dates, consumption, generation, meter and credits.

Nothing is stored. Every figure of month M comes from a random generator seeded with the profile's
seed, the installation and M, so it is the same whenever it is asked for. What depends on earlier
months (the meter reading and the SCEE credit balance) is obtained by walking from a fixed epoch month
up to M; the walk is a few hundred arithmetic steps and is cached per (profile, month).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache

from simulator.bills.profile import InstallationProfile

EPOCH = (2019, 1)
"""The first month the simulated installations exist; earlier cycles are refused."""

MINIMUM_KWH = {"monofasico": 30, "bifasico": 50, "trifasico": 100}
"""Custo de disponibilidade: the kWh a unit pays for even when its credits would cover more."""

# Relative grid consumption per calendar month in Minas Gerais (hot, rainy summer).
_CONSUMPTION_SEASON = (1.10, 1.12, 1.08, 1.00, 0.92, 0.88, 0.87, 0.90, 0.95, 1.02, 1.06, 1.10)
# kWh generated per kWp in a 30-day period, per calendar month (dry winter is sunnier).
_SOLAR_YIELD = (118, 122, 120, 118, 115, 110, 118, 132, 134, 130, 120, 116)
_METER_PREFIXES = ("APC", "AHB", "AMD", "BPC", "PPB", "PRB")


def month_index(year: int, month: int) -> int:
    """Months since year 0, so consecutive months differ by one."""
    return year * 12 + month - 1


def from_index(index: int) -> tuple[int, int]:
    """Inverse of :func:`month_index`."""
    return index // 12, index % 12 + 1


def parse_cycle(cycle: str) -> tuple[int, int]:
    """``"2026-11"`` → ``(2026, 11)``; refuses malformed cycles and months before the epoch."""
    try:
        year_text, month_text = cycle.split("-")
        year, month = int(year_text), int(month_text)
    except ValueError:
        raise ValueError(f"cycle must be YYYY-MM, got {cycle!r}") from None
    if len(year_text) != 4 or not 1 <= month <= 12:
        raise ValueError(f"cycle must be YYYY-MM, got {cycle!r}")
    if month_index(year, month) < month_index(*EPOCH) + 1:
        raise ValueError(f"cycles before {EPOCH[0]}-{EPOCH[1] + 1:02d} are not simulated")
    return year, month


def rng(profile: InstallationProfile, *parts: object) -> random.Random:
    """A generator seeded by the installation and ``parts`` (string seeds are stable across runs)."""
    return random.Random(":".join([str(profile.seed), profile.installation, *map(str, parts)]))  # noqa: S311


def shared_rng(*parts: object) -> random.Random:
    """A generator for what is the same for every installation (tariff flags, PIS/COFINS rates)."""
    return random.Random(":".join(["cemig", *map(str, parts)]))  # noqa: S311


@dataclass(frozen=True)
class Traits:
    """What never changes for one installation."""

    route_day: int
    base_kwh: int
    minimum_kwh: int
    kwp: Decimal
    self_share: float
    credit_share: Decimal
    meter_id: str
    meter_start: int
    cip_base: Decimal
    due_offset: int
    debit_code: str
    automatic_debit: bool
    state_registration: str


@lru_cache(maxsize=4096)
def traits(profile: InstallationProfile) -> Traits:
    """Derive the installation's constants from its seed."""
    r = rng(profile, "traits")
    residential = profile.tariff_class.lower().startswith("resid")
    base = r.randint(150, 450) if residential else r.randint(350, 1800)
    minimum = MINIMUM_KWH.get(profile.supply_type, 50)
    base = max(base, minimum + 40)
    self_share = r.uniform(0.15, 0.35)
    sizing = r.uniform(0.8, 1.1)
    kwp = Decimal(str(round(sizing * (base - minimum) / (122 * (1 - self_share)), 2)))
    credit_share = Decimal(100) if r.random() < 0.7 else Decimal(str(round(r.uniform(40, 99), 2)))
    kwp = profile.kwp if profile.kwp is not None else kwp
    credit_share = profile.credit_share if profile.credit_share is not None else credit_share
    return Traits(
        route_day=r.randint(3, 24),
        base_kwh=base,
        minimum_kwh=minimum,
        kwp=kwp,
        self_share=self_share,
        credit_share=credit_share,
        meter_id=f"{r.choice(_METER_PREFIXES)}{r.randint(100_000_000, 999_999_999)}",
        meter_start=r.randint(1_000, 60_000),
        cip_base=Decimal(str(round(r.uniform(15, 50), 2))),
        due_offset=r.randint(20, 27),
        debit_code=f"00{r.randint(10**9, 10**10 - 1)}",
        automatic_debit=r.random() < 0.25,
        state_registration=f"{r.randint(0, 99_999):05d}",
    )


@lru_cache(maxsize=65536)
def reading_date(profile: InstallationProfile, index: int) -> date:
    """The day the meter is read for the cycle ``index`` (never on a weekend)."""
    year, month = from_index(index)
    jitter = rng(profile, "reading", index).randint(-2, 2)
    day = date(year, month, traits(profile).route_day) + timedelta(days=jitter)
    if day.weekday() >= 5:
        day += timedelta(days=7 - day.weekday())
    return day


def consumption(profile: InstallationProfile, index: int) -> tuple[int, int]:
    """Grid consumption (kWh) and days of the cycle ``index``; independent of other months."""
    days = (reading_date(profile, index) - reading_date(profile, index - 1)).days
    t = traits(profile)
    noise = rng(profile, "consumption", index).uniform(0.85, 1.15)
    kwh = round(t.base_kwh * _CONSUMPTION_SEASON[from_index(index)[1] - 1] * noise * days / 30)
    year, month = from_index(index)
    boost = dict(profile.consumption_boost).get(f"{year:04d}-{month:02d}")
    if boost is not None:
        kwh = kwh * boost // 100
    return max(kwh, 0), days


def injected_exported(profile: InstallationProfile, index: int) -> int:
    """Energy (kWh) the unit's plant sends to the grid in the cycle ``index`` (0 without generation)."""
    if not profile.has_generation:
        return 0
    t = traits(profile)
    days = (reading_date(profile, index) - reading_date(profile, index - 1)).days
    noise = rng(profile, "solar", index).uniform(0.88, 1.06)
    generated = float(t.kwp) * _SOLAR_YIELD[from_index(index)[1] - 1] * noise * days / 30
    return round(generated * (1 - t.self_share))


def injected(profile: InstallationProfile, index: int) -> Decimal:
    """Credits (kWh) the unit receives in the cycle ``index``: its share of its own or of its plant's injection.

    A beneficiary's share is of the plant's injection of the same cycle (0 without a share or a plant).
    """
    if profile.plant is not None:
        exported, share = Decimal(injected_exported(profile.plant, index)), profile.credit_share or Decimal(0)
    elif profile.has_generation:
        exported, share = Decimal(injected_exported(profile, index)), traits(profile).credit_share
    else:
        return Decimal(0)
    return (exported * share / 100).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class MonthState:
    """One cycle of one installation, with what it inherits from earlier cycles."""

    index: int
    previous_reading: date
    current_reading: date
    next_reading: date
    days: int
    consumption_kwh: int
    meter_previous: int
    meter_current: int
    injected_kwh: Decimal
    compensated_kwh: int
    balance_before_kwh: Decimal
    balance_kwh: Decimal


@lru_cache(maxsize=4096)
def _walk_from_epoch(profile: InstallationProfile, index: int) -> tuple[int, Decimal]:
    """Meter reading and credit balance at the end of cycle ``index``, walked from the epoch."""
    meter, balance = traits(profile).meter_start, Decimal(0)
    for i in range(month_index(*EPOCH), index + 1):
        meter, balance, _ = _step(profile, i, meter, balance)
    return meter, balance


def _step(profile: InstallationProfile, index: int, meter: int, balance: Decimal) -> tuple[int, Decimal, int]:
    kwh, _ = consumption(profile, index)
    credits = injected(profile, index)
    need = max(kwh - traits(profile).minimum_kwh, 0)
    compensated = min(need, int((balance + credits).to_integral_value(rounding=ROUND_FLOOR)))
    year, month = from_index(index)
    if f"{year:04d}-{month:02d}" in profile.uncompensated:
        compensated = 0
    return meter + kwh, balance + credits - compensated, compensated


def month_state(profile: InstallationProfile, year: int, month: int) -> MonthState:
    """Everything the bill of ``year-month`` needs about the installation's history."""
    index = month_index(year, month)
    meter_before, balance_before = _walk_from_epoch(profile, index - 1)
    meter_after, balance_after, compensated = _step(profile, index, meter_before, balance_before)
    kwh, days = consumption(profile, index)
    return MonthState(
        index=index,
        previous_reading=reading_date(profile, index - 1),
        current_reading=reading_date(profile, index),
        next_reading=reading_date(profile, index + 1),
        days=days,
        consumption_kwh=kwh,
        meter_previous=meter_before,
        meter_current=meter_after,
        injected_kwh=injected(profile, index),
        compensated_kwh=compensated,
        balance_before_kwh=balance_before,
        balance_kwh=balance_after,
    )
