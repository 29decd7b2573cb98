"""Month by month, per unit and per client: the rows of the detailed report, from the stored bills.

A month with a stored bill (whatever its source: e-mail, upload) takes every figure from it; a month without
one takes its grid consumption from the 13-month history printed on the newest bill, marked as such. Savings
are computed per bill (`reports.economics`) and accumulated over the months that have them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from reports.economics import bill_economics, decimal_or_none, injected_kwh
from storage.mail_models import Invoice

SOURCE_BILL = "fatura"
SOURCE_HISTORY = "histórico"


@dataclass(frozen=True)
class MonthRow:
    """One month of the report; None = not known."""

    month: str
    consumption_kwh: Decimal | None
    compensated_kwh: Decimal | None
    credit_balance_kwh: Decimal | None
    amount_due: Decimal | None
    source: str
    """SOURCE_BILL (a stored bill) or SOURCE_HISTORY (the history printed on the newest bill)."""
    invoice_id: int | None = None
    injected_kwh: Decimal | None = None
    without_solar: Decimal | None = None
    savings: Decimal | None = None
    cumulative_savings: Decimal | None = None
    availability_charge: Decimal | None = None
    fio_b: Decimal | None = None
    tariff: Decimal | None = None
    supply_type: str | None = None
    expected_generation_kwh: Decimal | None = None
    """What the integrator expects the system to generate that month (the sizing), when registered."""
    reading_basis: str | None = None
    """`average` / `estimated` / `informed` when the bill says its consumption was not read (None: read)."""


def _bill_row(invoice: Invoice) -> MonthRow:
    economics = bill_economics(invoice.data, amount_due=invoice.amount_due, consumption_kwh=invoice.consumption_kwh)
    return MonthRow(month=invoice.reference_month, consumption_kwh=invoice.consumption_kwh,
                    compensated_kwh=invoice.compensated_kwh, credit_balance_kwh=invoice.credit_balance_kwh,
                    amount_due=invoice.amount_due, source=SOURCE_BILL, invoice_id=invoice.id,
                    injected_kwh=injected_kwh(invoice.data), without_solar=economics.without_solar,
                    savings=economics.savings, availability_charge=economics.availability_charge,
                    fio_b=economics.fio_b, tariff=economics.tariff, supply_type=invoice.data.get("supply_type"),
                    reading_basis=invoice.data.get("reading_basis"))


GENERATION_BASIS_PT = ("Geração comparada: energia injetada na rede, a única que a fatura informa (a energia "
                       "gerada e consumida na hora não passa pelo medidor da concessionária).")


def monthly_rows(invoices: Iterable[Invoice], *, expected: Sequence[Decimal] | None = None) -> list[MonthRow]:
    """Rows oldest first: every stored month (the newest version of a reissued bill), plus history months.

    `expected` is the unit's expected generation, 12 values from January: each row gets its month's value.
    """
    current = [i for i in invoices if i.reference_month and i.superseded_by_id is None]
    rows: dict[str, MonthRow] = {}
    for invoice in sorted(current, key=lambda i: (i.reference_month, i.version)):
        rows[invoice.reference_month] = _bill_row(invoice)
    newest = max(current, key=lambda i: i.reference_month, default=None)
    if newest is not None:
        for entry in newest.data.get("history") or []:
            month = entry.get("month") if isinstance(entry, dict) else None
            if month and len(month) == 7 and month not in rows:
                rows[month] = MonthRow(month=month, consumption_kwh=decimal_or_none(entry.get("kwh")),
                                       compensated_kwh=None, credit_balance_kwh=None, amount_due=None,
                                       source=SOURCE_HISTORY)
    ordered = [rows[m] for m in sorted(rows)]
    if expected:
        ordered = [replace(r, expected_generation_kwh=expected[int(r.month[5:]) - 1]) for r in ordered]
    return _accumulate(ordered)


def generation_ratio(row: MonthRow) -> Decimal | None:
    """Injected energy as a percentage of the expected generation, when both are known."""
    if row.injected_kwh is None or not row.expected_generation_kwh:
        return None
    return (row.injected_kwh / row.expected_generation_kwh * 100).quantize(Decimal("0.1"))


def _accumulate(rows: list[MonthRow]) -> list[MonthRow]:
    total: Decimal | None = None
    out = []
    for row in rows:
        if row.savings is not None:
            total = (total or Decimal(0)) + row.savings
        out.append(replace(row, cumulative_savings=total if row.savings is not None else None))
    return out


def _add(values: Sequence[Decimal | None]) -> Decimal | None:
    known = [v for v in values if v is not None]
    return sum(known, Decimal(0)) if known else None


@dataclass(frozen=True)
class UnitReport:
    """One unit of a client's report."""

    unit_id: int
    label: str
    role: str
    """'geradora' (it injects energy) or 'beneficiária'."""
    rows: list[MonthRow]


@dataclass(frozen=True)
class ClientReport:
    """A client's units (one holder document) together, with the month-by-month totals of the group."""

    units: list[UnitReport]
    totals: list[MonthRow]

    @property
    def total_savings(self) -> Decimal | None:
        """Savings over every month that has them, all units."""
        return _add([r.savings for r in self.totals])


def client_report(units: Sequence[tuple[int, str, list[Invoice]]],
                  expected: dict[int, list[Decimal]] | None = None) -> ClientReport:
    """Group units (id, label, bills) into one report; totals add each figure over the units that have it.

    The credit balance total is the sum of the units' balances (credits belong to each unit at CEMIG); a month's
    total is marked SOURCE_HISTORY unless at least one unit has a stored bill for it.
    """
    reports = []
    for unit_id, label, invoices in units:
        rows = monthly_rows(invoices, expected=(expected or {}).get(unit_id))
        generating = any(r.injected_kwh for r in rows) or bool((expected or {}).get(unit_id))
        reports.append(UnitReport(unit_id=unit_id, label=label, role="geradora" if generating else "beneficiária",
                                  rows=rows))
    reports.sort(key=lambda u: (u.role != "geradora", u.unit_id))
    months = sorted({r.month for u in reports for r in u.rows})
    totals = []
    for month in months:
        same = [r for u in reports for r in u.rows if r.month == month]
        totals.append(MonthRow(
            month=month, source=SOURCE_BILL if any(r.source == SOURCE_BILL for r in same) else SOURCE_HISTORY,
            **{name: _add([getattr(r, name) for r in same]) for name in (
                "consumption_kwh", "compensated_kwh", "credit_balance_kwh", "amount_due", "injected_kwh",
                "without_solar", "savings", "availability_charge", "fio_b", "expected_generation_kwh")}))
    return ClientReport(units=reports, totals=_accumulate(totals))
