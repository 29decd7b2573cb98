"""The unit's monthly report as a PDF for the client, attached to a forwarded bill when `unit.forward_report`.

The same PDF as the dashboard's "Baixar PDF" of the report (`reports.pdf`), up to the forwarded bill's month
(a late or re-sent forward of an older bill does not show later months), without the alerts: those say what
the integrator must do, and the client's copy is the figures.
"""

from __future__ import annotations

from sqlmodel import Session

from reports.monthly import monthly_rows
from reports.pdf import UnitReport, report_pdf
from storage.generation import expected_generation
from storage.invoices import list_invoices
from storage.mail_models import Invoice
from storage.models import Unit


def monthly_report(*, session: Session, unit: Unit, invoice: Invoice) -> bytes:
    """The report PDF of `unit` through `invoice`'s reference month."""
    bills = [i for i in list_invoices(session=session, unit_id=unit.id) if i.reference_month <= invoice.reference_month]
    expected = expected_generation(session=session, unit_id=unit.id or 0)
    return report_pdf(UnitReport(unit=unit, rows=monthly_rows(bills, expected=expected), expected=expected))
