"""Brazilian text conventions shared by bill parsers: pt-BR numbers, month names, dd/mm dates."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

NUMBER = r"-?\d{1,3}(?:\.\d{3})*(?:,\d+)?"
"""A pt-BR number as bills print it: thousands with dots, decimals after a comma (``-1.091,38``)."""

MONEY = r"-?\d{1,3}(?:\.\d{3})*,\d{2}"
"""A pt-BR amount in reais: always two decimals."""

MONTHS = ("JAN", "FEV", "MAR", "ABR", "MAI", "JUN", "JUL", "AGO", "SET", "OUT", "NOV", "DEZ")
MONTH = "(?:" + "|".join(MONTHS) + ")"
_MONTH_NUMBERS = {abbr: number for number, abbr in enumerate(MONTHS, start=1)}

_NUMBER_TOKEN = re.compile(r"-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?")


def is_number(token: str) -> bool:
    """Whether a whitespace-free token is a pt-BR number (``1.007``, ``0,64802788``, ``-620,00``)."""
    return _NUMBER_TOKEN.fullmatch(token) is not None


def leads_its_line(text: str, position: int) -> bool:
    r"""Whether only blanks precede `position` on its line: what a `(?m)^\s*` before a pattern allows.

    Checked after a search that starts on a literal, which the regex engine finds by a fast scan; a pattern led by
    `(?m)^\s*` is tried at every position of the text.
    """
    line_start = text.rfind("\n", 0, position) + 1
    return not text[line_start:position].strip()


def decimals(token: str) -> int:
    """How many decimal places a pt-BR number token prints."""
    return len(token.partition(",")[2])


def plain(number: str) -> str:
    """A pt-BR number as a plain decimal string, keeping its printed precision (``1.091,38`` → ``1091.38``)."""
    text = number.strip().replace(".", "").replace(",", ".")
    Decimal(text)  # raises on anything that is not a number
    return text


def to_decimal(number: str) -> Decimal:
    """A pt-BR number as a Decimal."""
    return Decimal(plain(number))


def month_iso(month_abbr: str, year: str) -> str | None:
    """``JUN`` + ``2023`` (or ``23``) → ``2023-06``; None for an unknown month."""
    number = _MONTH_NUMBERS.get(month_abbr.upper())
    if number is None:
        return None
    full_year = int(year) + 2000 if len(year) == 2 else int(year)
    return f"{full_year:04d}-{number:02d}"


def date_iso(ddmmyyyy: str) -> str | None:
    """``11/07/2023`` (or ``11.07.2023``) → ``2023-07-11``; None when not a real date."""
    match = re.fullmatch(r"(\d{2})[/.](\d{2})[/.](\d{4})", ddmmyyyy.strip())
    if match is None:
        return None
    try:
        return date(int(match[3]), int(match[2]), int(match[1])).isoformat()
    except ValueError:
        return None


def _on(day_month: str, year: int) -> date | None:
    day, month = (int(part) for part in day_month.split("/"))
    try:
        return date(year, month, day)
    except ValueError:
        return None


def date_near(day_month: str, anchor: date) -> date | None:
    """The date with this ``dd/mm`` closest to ``anchor`` (the year is not printed on reading dates)."""
    candidates = [d for year in (anchor.year - 1, anchor.year, anchor.year + 1) if (d := _on(day_month, year))]
    if not candidates:
        return None
    return min(candidates, key=lambda d: abs(d - anchor))


def date_before(day_month: str, anchor: date) -> date | None:
    """The latest date with this ``dd/mm`` strictly before ``anchor``."""
    candidates = [d for year in (anchor.year - 1, anchor.year) if (d := _on(day_month, year)) and d < anchor]
    return max(candidates, default=None)


def date_after(day_month: str, anchor: date) -> date | None:
    """The earliest date with this ``dd/mm`` strictly after ``anchor``."""
    candidates = [d for year in (anchor.year, anchor.year + 1) if (d := _on(day_month, year)) and d > anchor]
    return min(candidates, default=None)


def mid_month(month: str) -> date:
    """The 15th of a ``YYYY-MM`` month: the anchor for reading dates printed without a year."""
    year, number = month.split("-")
    return date(int(year), int(number), 15)
