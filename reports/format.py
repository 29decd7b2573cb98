"""pt-BR formatting of money, energy, months and dates (Babel), shared by pages, PDFs, exports and e-mails."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

LOCALE = "pt_BR"
MISSING = "—"
MONTHS_PT = ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez")


def brl(value: Decimal | None) -> str:
    """R$ 1.234,56 (a no-break space after R$); — when unknown."""
    if value is None:
        return MISSING
    return format_currency(value, "BRL", locale=LOCALE)


def number(value: Decimal | None, places: int = 0) -> str:
    """1.234 or 1.234,56 with `places` decimals; — when unknown."""
    if value is None:
        return MISSING
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def kwh(value: Decimal | None) -> str:
    """Energy in whole kWh, or with decimals when the bill prints them (credit balances): 1.234,5 kWh."""
    if value is None:
        return MISSING
    places = 0 if value == value.to_integral_value() else 2
    return f"{number(value, places)}\u00a0kWh"


def percent(value: Decimal | None) -> str:
    """12,5 %; — when unknown."""
    if value is None:
        return MISSING
    return f"{format_decimal(value, format='#,##0.#', locale=LOCALE)}\u00a0%"


def month_label(month: str) -> str:
    """'2026-01' → 'jan/26'."""
    year, number_ = month.split("-")
    return f"{MONTHS_PT[int(number_) - 1]}/{year[2:]}"


def date_br(value: date | None) -> str:
    """17/11/2026; — when unknown."""
    if value is None:
        return MISSING
    return format_date(value, format="dd/MM/yyyy", locale=LOCALE)
