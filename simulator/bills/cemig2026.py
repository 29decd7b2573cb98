"""What changed in CEMIG's bills from JAN/2026: the UC code, the new item names, the injection meter row.

Facts from the reference (cemig-bill-layout.md §5.1, §5.3): the national 15-digit UC code replaces the
installation number (``<10-digit sequential><018><2 check digits>``, printed dotted with leading zeros
dropped); GD units may have GD I and GD II compensation rows in one bill; from MAI/2026 the rows are named
``Energia compensada ISENTA`` and ``Compensação GD I/II``; the minimum a GD unit pays is billed as
``Custo de Disponibilidade`` without unit or quantity; GD units show an ``Energia Injetada`` meter row.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from simulator.bills.model import EPOCH, injected_exported, month_index, traits
from simulator.bills.profile import InstallationProfile

FIRST_CYCLE = (2026, 1)
"""The first cycle billed in the 2026 design; earlier cycles keep the 2024 DANF3E."""
CEMIG_ID = "018"
"""CEMIG's distributor id inside the UC code (N5N4N3)."""


def is_2026(year: int, month: int) -> bool:
    """Whether the cycle is billed in the 2026 design."""
    return (year, month) >= FIRST_CYCLE


def uc_code_for(installation: str) -> str:
    """A stable 15-digit UC code for a simulated installation.

    The sequential part is a hash, not the installation number: the real one is another number, so nothing
    may be derived from one to the other. The check digits' algorithm is not public; these are made up.
    """
    digest = int(hashlib.sha256(f"uc:{installation}".encode()).hexdigest(), 16)
    sequential = 1_000_000 + digest % 99_000_000
    return f"{sequential:010d}{CEMIG_ID}{(digest // 10**8) % 100:02d}"


def format_uc(code: str) -> str:
    """``000453314201850`` → ``4.533.142.018-50`` (dotted from the right, leading zeros dropped)."""
    body, check = code[:-2].lstrip("0") or "0", code[-2:]
    groups = []
    while body:
        groups.insert(0, body[-3:])
        body = body[:-3]
    return ".".join(groups) + "-" + check


def item_names(year: int, month: int) -> dict[str, str]:
    """The GD item names printed in a cycle: ``scee`` (positive), ``gd1`` and ``gd2`` (credits)."""
    if (year, month) >= (2026, 5):
        return {"scee": "Energia compensada ISENTA", "gd1": "Compensação GD I", "gd2": "Compensação GD II"}
    return {"scee": "Energia SCEE s/ ICMS", "gd1": "Energia compensada GD I", "gd2": "Energia compensada GD II"}


def gd2_share(profile: InstallationProfile) -> int:
    """Percent of the compensated energy that comes from remote plants (GD II): 0 for most units."""
    seed = int(hashlib.sha256(f"gd2:{profile.seed}:{profile.installation}".encode()).hexdigest(), 16)
    return 0 if seed % 5 < 3 else 20 + seed % 41


@lru_cache(maxsize=4096)
def injection_register(profile: InstallationProfile, index: int) -> int:
    """The injection register (kWh sent to the grid) at the end of cycle ``index``."""
    total = traits(profile).meter_start // 4
    for i in range(month_index(*EPOCH), index + 1):
        total += injected_exported(profile, i)
    return total


def injection_row(profile: InstallationProfile, index: int) -> tuple[int, int, int]:
    """(previous, current, kWh) of the ``Energia Injetada`` row of cycle ``index``."""
    previous, current = injection_register(profile, index - 1), injection_register(profile, index)
    return previous, current, current - previous

