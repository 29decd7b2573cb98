"""The detailed report as a PDF (reportlab): the monthly table and a consumption/compensation chart."""

from __future__ import annotations

import io

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from storage.models import Unit
from web.services.reports import MonthRow, month_label


def _chart(rows: list[MonthRow]) -> Drawing:
    drawing = Drawing(17 * cm, 6 * cm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 30, 25, 17 * cm - 40, 6 * cm - 40
    chart.data = [[float(r.consumption_kwh or 0) for r in rows], [float(r.compensated_kwh or 0) for r in rows]]
    chart.categoryAxis.categoryNames = [month_label(r.month) for r in rows]
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = colors.HexColor("#0a6e4f")
    chart.bars[1].fillColor = colors.HexColor("#f2a900")
    drawing.add(chart)
    return drawing


def report_pdf(unit: Unit, rows: list[MonthRow]) -> bytes:
    """A one-or-two page A4 PDF of the report."""
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title="Relatório detalhado", leftMargin=2 * cm, rightMargin=2 * cm)
    story = [Paragraph("Relatório detalhado", styles["Title"]),
             Paragraph(f"{unit.client_name} · Instalação {unit.installation or unit.uc_code}", styles["Normal"]),
             Spacer(1, 0.4 * cm)]
    if rows:
        story += [Paragraph("Consumo da rede (verde) e energia compensada (amarelo), kWh", styles["Heading4"]),
                  _chart(rows), Spacer(1, 0.4 * cm)]

    def cell(value: object) -> str:
        return "—" if value is None else str(value)

    data = [["Mês", "Consumo (kWh)", "Compensada (kWh)", "Créditos (kWh)", "Valor (R$)", "Origem"]]
    data += [[month_label(r.month), cell(r.consumption_kwh), cell(r.compensated_kwh), cell(r.credit_balance_kwh),
              cell(r.amount_due), "Fatura" if r.source == "fatura" else "Histórico"] for r in rows]
    table = Table(data, repeatRows=1)
    table.setStyle(TableStyle([("FONTSIZE", (0, 0), (-1, -1), 8), ("ALIGN", (1, 1), (4, -1), "RIGHT"),
                               ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                               ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f0f3f5")])]))
    story.append(table)
    doc.build(story)
    return out.getvalue()
