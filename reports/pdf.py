"""The detailed report as a PDF (reportlab, A4 landscape): the page's summary, alerts, table and footnotes.

Every figure is formatted by `reports.format`, exactly as on the page, so that the page and the PDF agree
number for number (a test compares them). Here, beside the report's figures, so that both the dashboard
(`/unidades/{id}/relatorio.pdf`, and the client's `/unidades/{id}/cliente.pdf`) and the forward to the client
(`unit.forward_report`) draw the same PDF.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from reports.alerts import Alert
from reports.economics import FORMULA_PT
from reports.format import brl, kwh, month_label, percent
from reports.monthly import GENERATION_BASIS_PT, SOURCE_BILL, ClientReport, MonthRow, generation_ratio
from storage.models import Unit


class ReportView(Protocol):
    """What the PDF needs of a unit's report (the dashboard's `UnitReportView` is one)."""

    @property
    def unit(self) -> Unit: ...  # noqa: D102

    @property
    def rows(self) -> list[MonthRow]: ...  # noqa: D102

    @property
    def alerts(self) -> list[Alert]: ...  # noqa: D102

    @property
    def formula(self) -> str: ...  # noqa: D102

    @property
    def generation_basis(self) -> str: ...  # noqa: D102

    @property
    def show_generation(self) -> bool: ...  # noqa: D102


@dataclass(frozen=True)
class UnitReport:
    """A unit's report outside the dashboard (the copy attached to a forwarded bill)."""

    unit: Unit
    rows: list[MonthRow]
    alerts: list[Alert] = field(default_factory=list)
    expected: list[Decimal] | None = None
    formula: str = FORMULA_PT
    generation_basis: str = GENERATION_BASIS_PT
    show_alerts: bool = False
    """The alerts say what the integrator must do: the client's copy leaves them out."""

    @property
    def show_generation(self) -> bool:
        """The generation columns, as on the page: a generating unit or one with an expected generation."""
        return bool(self.expected) or any(r.injected_kwh is not None for r in self.rows)


HEADER = ["Mês", "Consumo da rede", "Energia injetada", "Energia compensada", "Saldo de créditos", "Valor pago",
          "Sem energia solar", "Economia", "Economia acumulada", "Custo de disponibilidade", "Fio B", "Origem"]
GREEN, YELLOW = colors.HexColor("#0a6e4f"), colors.HexColor("#f2a900")


def table_cells(row: MonthRow, *, generation: bool = False) -> list[str]:
    """One row of the table, as the page prints it (with the generation columns when the page has them)."""
    extra = [kwh(row.expected_generation_kwh), percent(generation_ratio(row))] if generation else []
    return [month_label(row.month), kwh(row.consumption_kwh), kwh(row.injected_kwh), kwh(row.compensated_kwh),
            kwh(row.credit_balance_kwh), brl(row.amount_due), brl(row.without_solar), brl(row.savings),
            brl(row.cumulative_savings), brl(row.availability_charge), brl(row.fio_b), *extra,
            "Fatura" if row.source == SOURCE_BILL else "Histórico"]


def _energy_chart(rows: Sequence[MonthRow]) -> Drawing:
    drawing = Drawing(12 * cm, 5.5 * cm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 25, 12 * cm - 50, 5.5 * cm - 40
    chart.data = [[float(r.consumption_kwh or 0) for r in rows], [float(r.compensated_kwh or 0) for r in rows]]
    chart.categoryAxis.categoryNames = [month_label(r.month) for r in rows]
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = GREEN
    chart.bars[1].fillColor = YELLOW
    drawing.add(chart)
    return drawing


def _balance_chart(rows: Sequence[MonthRow]) -> Drawing:
    drawing = Drawing(12 * cm, 5.5 * cm)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 40, 25, 12 * cm - 50, 5.5 * cm - 40
    chart.data = [[float(r.credit_balance_kwh or 0) for r in rows]]
    chart.categoryAxis.categoryNames = [month_label(r.month) for r in rows]
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.lines[0].strokeColor = GREEN
    drawing.add(chart)
    return drawing


def _styles():
    styles = getSampleStyleSheet()
    return styles, styles["BodyText"].clone("small", fontSize=8, leading=10)


def _document(out: io.BytesIO, title: str) -> SimpleDocTemplate:
    return SimpleDocTemplate(out, pagesize=landscape(A4), title=title, leftMargin=1.5 * cm, rightMargin=1.5 * cm,
                             topMargin=1.2 * cm, bottomMargin=1.2 * cm)


def _summary(rows: Sequence[MonthRow], styles) -> list:  # noqa: ANN001 - reportlab's style sheet
    """Page one: the newest billed month's amount, savings and credit balance (as the page's summary card)."""
    billed = [r for r in rows if r.source == SOURCE_BILL]
    if not billed:
        return []
    last = billed[-1]
    return [Paragraph(f"Resumo de {month_label(last.month)}", styles["Heading3"]),
            Table([["Valor da fatura", "Economia no mês", "Economia acumulada", "Saldo de créditos"],
                   [brl(last.amount_due), brl(last.savings), brl(last.cumulative_savings),
                    kwh(last.credit_balance_kwh)]],
                  style=TableStyle([("FONTSIZE", (0, 0), (-1, 0), 8), ("FONTSIZE", (0, 1), (-1, 1), 12),
                                    ("TEXTCOLOR", (0, 0), (-1, 0), colors.grey)]))]


def _alerts(alerts: Sequence[Alert], styles, small, labels: dict[int, str] | None = None) -> list:  # noqa: ANN001
    """The alerts, each prefixed with its unit's label in a client's report (`labels`), as on the page."""
    story: list = [Paragraph("Alertas", styles["Heading3"])]
    if alerts:
        return story + [Paragraph(f"{f'{labels[a.unit_id]} · ' if labels and a.unit_id in labels else ''}"
                                  f"<b>{a.title}</b>{f' ({month_label(a.month)})' if a.month else ''}: {a.detail}",
                                  small) for a in alerts]
    return [*story, Paragraph("Nenhum alerta.", small)]


def _table(rows: Sequence[MonthRow], *, generation: bool) -> Table:
    header = [*HEADER[:-1], "Geração esperada", "Injetada / esperada", HEADER[-1]] if generation else HEADER
    table = Table([header, *(table_cells(r, generation=generation) for r in rows)], repeatRows=1)
    table.setStyle(TableStyle([("FONTSIZE", (0, 0), (-1, -1), 7), ("ALIGN", (1, 1), (-2, -1), "RIGHT"),
                               ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                               ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f0f3f5")])]))
    return table


def _charts(rows: Sequence[MonthRow], small) -> list:  # noqa: ANN001
    return [Spacer(1, 0.3 * cm), Table([[_energy_chart(rows), _balance_chart(rows)]]),
            Paragraph("Consumo da rede (verde) e energia compensada (amarelo), kWh · saldo de créditos, kWh", small),
            Spacer(1, 0.3 * cm)]


HISTORY_NOTE_PT = ("Origem “Histórico”: mês sem fatura armazenada; o consumo vem do histórico impresso na fatura "
                   "mais recente.")
EXPIRY_NOTE_PT = "Créditos a expirar: a fatura não informa quando os créditos expiram (eles valem por 60 meses)."


def report_pdf(view: ReportView) -> bytes:
    """The unit's report as a PDF."""
    styles, small = _styles()
    out = io.BytesIO()
    doc = _document(out, "Relatório detalhado")
    unit = view.unit
    story: list = [Paragraph("Relatório detalhado", styles["Title"]),
                   Paragraph(f"{unit.client_name} · Instalação {unit.installation or unit.uc_code}", styles["Normal"]),
                   Spacer(1, 0.3 * cm), *_summary(view.rows, styles)]
    if getattr(view, "show_alerts", True):
        story += _alerts(view.alerts, styles, small)
    if view.rows:
        generation = view.show_generation
        story += [*_charts(view.rows, small), _table(view.rows, generation=generation), Spacer(1, 0.3 * cm),
                  Paragraph(view.formula, small),
                  *([Paragraph(view.generation_basis, small)] if generation else []),
                  Paragraph(HISTORY_NOTE_PT, small), Paragraph(EXPIRY_NOTE_PT, small)]
    else:
        story.append(Paragraph("Ainda não há faturas desta unidade.", small))
    doc.build(story)
    return out.getvalue()


class ClientView(Protocol):
    """What the client PDF needs (the dashboard's `ClientReportView` is one)."""

    @property
    def unit(self) -> Unit: ...  # noqa: D102

    @property
    def report(self) -> ClientReport: ...  # noqa: D102

    @property
    def alerts(self) -> list[Alert]: ...  # noqa: D102

    @property
    def formula(self) -> str: ...  # noqa: D102

    @property
    def generation_basis(self) -> str: ...  # noqa: D102


def client_report_pdf(view: ClientView) -> bytes:
    """The client's report (every unit of the holder) as a PDF: the page's totals, then each unit's table."""
    styles, small = _styles()
    out = io.BytesIO()
    doc = _document(out, "Relatório do cliente")
    report = view.report
    story: list = [Paragraph("Relatório do cliente", styles["Title"]),
                   Paragraph(f"{view.unit.client_name} · {len(report.units)} unidades", styles["Normal"]),
                   Spacer(1, 0.3 * cm), *_summary(report.totals, styles),
                   *_alerts(view.alerts, styles, small, {part.unit_id: part.label for part in report.units}),
                   *_charts(report.totals, small), Paragraph("Todas as unidades", styles["Heading3"]),
                   _table(report.totals, generation=False)]
    for part in report.units:
        role = "Unidade geradora" if part.role == "geradora" else "Unidade beneficiária"
        story += [Paragraph(f"{part.label} · {role}", styles["Heading3"]),
                  _table(part.rows, generation=part.role == "geradora")]
    story += [Spacer(1, 0.3 * cm), Paragraph(view.formula, small), Paragraph(view.generation_basis, small),
              Paragraph(HISTORY_NOTE_PT, small)]
    doc.build(story)
    return out.getvalue()
