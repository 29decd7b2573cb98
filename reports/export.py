"""The report's monthly table as CSV and XLSX, for spreadsheets.

CSV keeps machine-readable values (`;` separator, decimal point, ISO months) so that any locale imports it;
XLSX carries real numbers with pt-BR display formats. Column names are pt-BR, the same in both.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from reports.format import month_label
from reports.monthly import SOURCE_BILL, MonthRow

COLUMNS: tuple[tuple[str, str], ...] = (
    ("consumo_kwh", "consumption_kwh"),
    ("energia_injetada_kwh", "injected_kwh"),
    ("energia_compensada_kwh", "compensated_kwh"),
    ("saldo_creditos_kwh", "credit_balance_kwh"),
    ("valor_rs", "amount_due"),
    ("valor_sem_fv_rs", "without_solar"),
    ("economia_rs", "savings"),
    ("economia_acumulada_rs", "cumulative_savings"),
    ("custo_disponibilidade_rs", "availability_charge"),
    ("fio_b_rs", "fio_b"),
    ("geracao_esperada_kwh", "expected_generation_kwh"),
)
_MONEY = {"amount_due", "without_solar", "savings", "cumulative_savings", "availability_charge", "fio_b"}


def _source(row: MonthRow) -> str:
    return "fatura" if row.source == SOURCE_BILL else "histórico"


def report_csv(rows: Sequence[MonthRow]) -> str:
    """The monthly table as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["mes_referencia", *(name for name, _ in COLUMNS), "origem"])
    for row in rows:
        values = (getattr(row, field) for _, field in COLUMNS)
        writer.writerow([row.month, *("" if v is None else str(v) for v in values), _source(row)])
    return out.getvalue()


def report_xlsx(rows: Sequence[MonthRow], *, title: str) -> bytes:
    """The monthly table as an XLSX workbook (one sheet), numbers as numbers."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Relatório"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True)
    sheet.append(["Mês", *(name for name, _ in COLUMNS), "origem"])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        values: list[object] = [month_label(row.month)]
        for _, field in COLUMNS:
            value = getattr(row, field)
            values.append(float(value) if isinstance(value, Decimal) else value)
        values.append(_source(row))
        sheet.append(values)
        for index, (_, field) in enumerate(COLUMNS, start=2):
            sheet.cell(row=sheet.max_row, column=index).number_format = (
                '"R$" #,##0.00' if field in _MONEY else "#,##0.##")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
