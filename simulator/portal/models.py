"""Plain values shared by the store modules: customers, installations, errors and small helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from simulator.bills.cemig2026 import uc_code_for


class StoreError(ValueError):
    """A request the store refuses (duplicate, unknown reference, invalid value); the message says why."""


@dataclass(frozen=True)
class Customer:
    """One portal login (a person or a company) as the portal sees it."""

    id: int
    name: str
    document: str | None
    email: str | None
    failed_logins: int
    locked: bool
    max_failed_logins: int


@dataclass(frozen=True)
class Installation:
    """One installation ("Nº da instalação") linked to a login."""

    number: str
    uc_code: str
    customer_id: int
    customer_number: str
    holder_name: str
    holder_document: str
    address_lines: tuple[str, ...]
    supply_type: str
    tariff_class: str
    tariff_subclass: str
    has_generation: bool
    pdf_password: str | None
    enrolled: bool
    enrolled_at: str | None
    adhesion_submissions: int
    status: str = "Ativa"


INSTALLATION_STATUSES = ("Ativa", "Suspensa", "Encerrada")
"""The status badge of "Minhas instalações" (the new portal's API says Active / Suspended / Terminated)."""


def digits(value: str) -> str:
    """Only the digits of a masked number ("123.456.789-09" → "12345678909")."""
    return re.sub(r"\D", "", value or "")


def now_iso() -> str:
    """The current UTC time as an ISO 8601 string with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def derive_uc_code(number: str) -> str:
    """A stable 15-digit "Unidade Consumidora" code for a simulated installation, the one its bills print.

    Shaped like CEMIG's (``<sequential><018><check digits>``) but not readable from the number: the real
    sequential part is another number, so the bot and the pipeline must never derive one from the other.
    """
    return uc_code_for(number)
