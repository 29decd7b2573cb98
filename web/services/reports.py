"""The detailed bill report of a unit: a monthly table, server-side SVG charts and a CSV export.

Months come from the stored bills; a month without a stored bill takes its consumption from the 13-month
history printed on the newest bill (marked as such), so a unit has a year of history from its first bill.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from storage.mail_models import Invoice

MONTHS_PT = ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez")


@dataclass(frozen=True)
class MonthRow:
    """One month of the report; None = not known."""

    month: str
    consumption_kwh: Decimal | None
    compensated_kwh: Decimal | None
    credit_balance_kwh: Decimal | None
    amount_due: Decimal | None
    source: str  # "fatura" (a stored bill) or "histórico" (the history printed on the newest bill)
    invoice_id: int | None = None


def month_label(month: str) -> str:
    """'2026-11' → 'nov/26'."""
    year, number = month.split("-")
    return f"{MONTHS_PT[int(number) - 1]}/{year[2:]}"


def _dec(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except ArithmeticError:
        return None


def monthly_rows(invoices: list[Invoice]) -> list[MonthRow]:
    """Rows oldest first: every stored month, plus history months printed on the newest bill."""
    rows: dict[str, MonthRow] = {}
    for invoice in invoices:
        if invoice.reference_month and invoice.reference_month not in rows:
            rows[invoice.reference_month] = MonthRow(
                month=invoice.reference_month, consumption_kwh=invoice.consumption_kwh,
                compensated_kwh=invoice.compensated_kwh, credit_balance_kwh=invoice.credit_balance_kwh,
                amount_due=invoice.amount_due, source="fatura", invoice_id=invoice.id)
    newest = max((i for i in invoices if i.reference_month), key=lambda i: i.reference_month, default=None)
    if newest is not None:
        for entry in newest.data.get("history") or []:
            month = entry.get("month") if isinstance(entry, dict) else None
            if month and len(month) == 7 and month not in rows:
                rows[month] = MonthRow(month=month, consumption_kwh=_dec(entry.get("kwh")), compensated_kwh=None,
                                       credit_balance_kwh=None, amount_due=None, source="histórico")
    return [rows[m] for m in sorted(rows)]


def bar_chart(title: str, points: list[tuple[str, Decimal | None]], unit: str) -> str:
    """An accessible inline SVG bar chart (escaped text; no script)."""
    width, height, left, bottom, top = 640, 220, 56, 28, 24
    values = [float(v) for _, v in points if v is not None]
    peak = max(values + [0.0]) or 1.0
    low = min(values + [0.0])
    span = (peak - low) or 1.0
    plot_h = height - bottom - top
    step = (width - left - 8) / max(1, len(points))
    zero_y = top + plot_h * (peak / span)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<line x1="{left}" y1="{zero_y:.1f}" x2="{width - 8}" y2="{zero_y:.1f}" class="axis"/>',
             f'<text x="4" y="{top + 4}" class="tick">{peak:,.0f} {escape(unit)}</text>']
    for index, (label, value) in enumerate(points):
        x = left + index * step + step * 0.15
        if value is not None:
            bar = plot_h * (abs(float(value)) / span)
            y = zero_y - bar if float(value) >= 0 else zero_y
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{max(bar, 0.5):.1f}" '
                         f'class="bar"><title>{escape(month_label(label))}: {value} {escape(unit)}</title></rect>')
        parts.append(f'<text x="{x + step * 0.35:.1f}" y="{height - 8}" class="tick" text-anchor="middle">'
                     f'{escape(month_label(label))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def charts(rows: list[MonthRow]) -> list[tuple[str, str]]:
    """(title, svg) for consumption, compensated energy, credit balance and amount."""
    return [
        (title, bar_chart(title, [(r.month, getattr(r, field)) for r in rows], unit))
        for title, field, unit in (
            ("Consumo da rede (kWh)", "consumption_kwh", "kWh"),
            ("Energia compensada (kWh)", "compensated_kwh", "kWh"),
            ("Saldo de créditos (kWh)", "credit_balance_kwh", "kWh"),
            ("Valor pago (R$)", "amount_due", "R$"),
        )
    ]


def report_csv(rows: list[MonthRow]) -> str:
    """The monthly table as CSV (`;`, decimal point, for spreadsheets in any locale)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["mes_referencia", "consumo_kwh", "energia_compensada_kwh", "saldo_creditos_kwh", "valor_rs",
                     "origem"])
    for r in rows:
        writer.writerow([r.month, *("" if v is None else str(v) for v in (
            r.consumption_kwh, r.compensated_kwh, r.credit_balance_kwh, r.amount_due)), r.source])
    return out.getvalue()
