"""The report's charts as inline SVG: bars for energy and money, a line for the credit balance.

Axes carry pt-BR tick labels and the unit; every bar and point has a tooltip with its month and value. Text is
escaped and no script is emitted (the page's CSP allows none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from reports.format import month_label, number
from reports.monthly import MonthRow

WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 680, 240, 72, 30, 28, 10
SERIES_CLASSES = 3  # .s0 .s1 .s2 in app.css (classes, not inline styles: the CSP allows no inline style)


@dataclass(frozen=True)
class Series:
    """One named series of a chart."""

    name: str
    values: list[Decimal | None]


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    # The axis has four intervals: ceilings whose quarters are round (300 → 75, 150, 225, not 250 → 62, 188).
    for step in (1, 2, 3, 4, 5, 6, 8, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def chart(title: str, months: Sequence[str], series: Sequence[Series], unit: str, *, kind: str = "bar") -> str:
    """An SVG chart of one or more series over `months` (`kind` = "bar" or "line")."""
    values = [float(v) for s in series for v in s.values if v is not None]
    low = min([0.0, *values])
    high = _nice_ceiling(max([0.0, *values]))
    span = (high - low) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - BOTTOM - TOP
    step = plot_w / max(1, len(months))

    def y_of(value: float) -> float:
        return TOP + plot_h * (high - value) / span

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<text x="4" y="14" class="tick">{escape(unit)}</text>']
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        tick = low + span * fraction
        y = y_of(tick)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid-line"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">'
                     f'{escape(number(Decimal(str(round(tick, 2))), 0))}</text>')
    parts.append(f'<line x1="{LEFT}" y1="{y_of(0):.1f}" x2="{WIDTH - RIGHT}" y2="{y_of(0):.1f}" class="axis"/>')
    width = step * 0.7 / max(1, len(series))
    for index, item in enumerate(series):
        css = f"s{index % SERIES_CLASSES}"
        points = []
        for position, (month, value) in enumerate(zip(months, item.values, strict=True)):
            if value is None:
                continue
            label = f"{month_label(month)}: {number(value, 2)} {unit}"
            if kind == "line":
                x = LEFT + position * step + step / 2
                points.append(f"{x:.1f},{y_of(float(value)):.1f}")
                parts.append(f'<circle cx="{x:.1f}" cy="{y_of(float(value)):.1f}" r="3" class="{css}">'
                             f'<title>{escape(label)}</title></circle>')
            else:
                x = LEFT + position * step + step * 0.15 + index * width
                top, bottom = sorted((y_of(float(value)), y_of(0)))
                parts.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" '
                             f'height="{max(bottom - top, 0.5):.1f}" class="bar {css}">'
                             f'<title>{escape(item.name)} · {escape(label)}</title></rect>')
        if kind == "line" and len(points) > 1:
            parts.append(f'<polyline points="{" ".join(points)}" class="line {css}"/>')
    for position, month in enumerate(months):
        x = LEFT + position * step + step / 2
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 10}" class="tick" text-anchor="middle">'
                     f'{escape(month_label(month))}</text>')
    if len(series) > 1:
        for index, item in enumerate(series):
            x = LEFT + index * 190
            parts.append(f'<rect x="{x}" y="4" width="10" height="10" class="s{index % SERIES_CLASSES}"/>'
                         f'<text x="{x + 14}" y="13" class="tick">{escape(item.name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def charts(rows: Sequence[MonthRow]) -> list[tuple[str, str]]:
    """(title, svg) for the report: energy, compensation, the credit balance (a line) and money."""
    months = [r.month for r in rows]

    def values(field: str) -> list[Decimal | None]:
        return [getattr(r, field) for r in rows]

    energy = [Series("Consumo da rede", values("consumption_kwh"))]
    if any(v is not None for v in values("injected_kwh")):
        energy.append(Series("Energia injetada", values("injected_kwh")))
    if any(v is not None for v in values("expected_generation_kwh")):
        energy.append(Series("Geração esperada", values("expected_generation_kwh")))
    found = [
        ("Energia (kWh)", energy, "kWh", "bar"),
        ("Energia compensada (kWh)", [Series("Energia compensada", values("compensated_kwh"))], "kWh", "bar"),
        ("Saldo de créditos (kWh)", [Series("Saldo de créditos", values("credit_balance_kwh"))], "kWh", "line"),
        ("Valor pago e valor sem energia solar (R$)",
         [Series("Valor pago", values("amount_due")), Series("Sem energia solar", values("without_solar"))],
         "R$", "bar"),
    ]
    return [(title, chart(title, months, series, unit, kind=kind)) for title, series, unit, kind in found]
