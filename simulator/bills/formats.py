"""pt-BR number, date and month formats exactly as the CEMIG bill prints them."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

MONTH_ABBR = ("JAN", "FEV", "MAR", "ABR", "MAI", "JUN", "JUL", "AGO", "SET", "OUT", "NOV", "DEZ")
MONTH_NAME = (
    "Janeiro",
    "Fevereiro",
    "Março",
    "Abril",
    "Maio",
    "Junho",
    "Julho",
    "Agosto",
    "Setembro",
    "Outubro",
    "Novembro",
    "Dezembro",
)

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    """Round half-up to cents."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def br_number(value: Decimal, places: int = 2) -> str:
    """``1234.5`` → ``1.234,50``; ``places=0`` prints integers (``1.057``); negatives keep ``-``."""
    quantum = Decimal(1).scaleb(-places)
    value = value.quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    integer, _, fraction = f"{abs(value):.{places}f}".partition(".")
    grouped = f"{int(integer):,}".replace(",", ".")
    return f"{sign}{grouped},{fraction}" if places else f"{sign}{grouped}"


def plain(value: Decimal, places: int = 2) -> str:
    """The schema's decimal string: ``1234.50`` (dot, no grouping)."""
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):.{places}f}"


def month_label(year: int, month: int, *, long_year: bool = True) -> str:
    """``NOV/2026`` (header) or ``NOV/26`` (history, flags)."""
    return f"{MONTH_ABBR[month - 1]}/{year if long_year else year % 100:02d}"


def month_name(year: int, month: int) -> str:
    """``Novembro/2026`` (footer)."""
    return f"{MONTH_NAME[month - 1]}/{year}"


def br_date(value: date) -> str:
    """``07/12/2026``."""
    return value.strftime("%d/%m/%Y")


def br_day_month(value: date) -> str:
    """``05/12`` (reading dates)."""
    return value.strftime("%d/%m")


READING_SENTENCES = {
    None: "Leitura realizada conforme calendário de faturamento.",
    "average": "Leitura não realizada: consumo faturado pela média dos últimos meses.",
    "estimated": "Leitura estimada: o consumo será acertado na próxima leitura.",
    "informed": "Consumo conforme leitura informada pelo cliente.",
}
"""The reading sentence of "Informações Gerais", by how the consumption was billed."""
