"""Stored bills (invoices): keyword-only functions over a session the caller owns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.mail_models import Forward, Invoice, InvoiceStatus
from storage.models import Unit

SCEE_FIELDS = ("compensated_kwh", "credit_balance_kwh")
"""Reviewable fields kept under the bill's `scee` object in the JSON."""
_TYPED = ("installation", "uc_code", "amount_due", "due_date", "consumption_kwh", "compensated_kwh",
          "credit_balance_kwh")
"""Reviewable fields that also have a typed column (what reports query)."""


def current_invoice(*, session: Session, unit_id: int, reference_month: str) -> Invoice | None:
    """The version in force for (unit, month): the newest not superseded."""
    query = select(Invoice).where(Invoice.unit_id == unit_id, Invoice.reference_month == reference_month,
                                  Invoice.superseded_by_id.is_(None))  # type: ignore[union-attr]
    return session.exec(query.order_by(Invoice.version.desc())).first()  # type: ignore[attr-defined]


def invoices_from_message(*, session: Session, mail_message_id: int) -> list[Invoice]:
    """Bills stored from one e-mail."""
    query = select(Invoice).where(Invoice.mail_message_id == mail_message_id)
    return list(session.exec(query.order_by(Invoice.id)).all())  # type: ignore[arg-type]


def add_version(*, session: Session, invoice: Invoice, previous: Invoice | None,
                version: int | None = None, supersede: bool = True) -> Invoice:
    """Insert `invoice` as version `version` (default: the next after `previous`) of (unit, month).

    With `supersede` False the new row is kept beside `previous` without replacing it (it is recorded as
    superseded by `previous` at once): a bill paying someone else never replaces a genuine one.
    """
    invoice.version = version or (1 if previous is None else previous.version + 1)
    if not supersede and previous is not None:
        invoice.superseded_by_id = previous.id
    session.add(invoice)
    session.flush()
    if previous is not None and supersede:
        previous.superseded_by_id = invoice.id
        session.add(previous)
        session.flush()
    return invoice


def list_invoices(*, session: Session, unit_id: int | None = None, current_only: bool = True) -> list[Invoice]:
    """Bills, newest month first."""
    query = select(Invoice)
    if unit_id is not None:
        query = query.where(Invoice.unit_id == unit_id)
    if current_only:
        query = query.where(Invoice.superseded_by_id.is_(None))  # type: ignore[union-attr]
    return list(session.exec(query.order_by(Invoice.reference_month.desc(), Invoice.id)).all())  # type: ignore[attr-defined]


def payee_mismatches(*, session: Session, unit_id: int) -> list[Invoice]:
    """A unit's stored bills whose payment data named someone else (any version), newest first."""
    rows = session.exec(select(Invoice).where(Invoice.unit_id == unit_id)
                        .order_by(Invoice.created_at.desc())).all()  # type: ignore[attr-defined]
    return [row for row in rows if "payee_mismatch" in (row.review_reasons or [])]


def forwards_of(*, session: Session, invoice_ids: list[int]) -> list[Forward]:
    """The outbox rows of these bills (who each was forwarded to, and how that went), oldest first."""
    if not invoice_ids:
        return []
    query = select(Forward).where(col(Forward.invoice_id).in_(invoice_ids)).order_by(col(Forward.id))
    return list(session.exec(query).all())


def invoices_to_review(*, session: Session, integrator_id: int) -> list[Invoice]:
    """The integrator's current bills waiting for a person (`needs_review`), oldest month first."""
    query = (select(Invoice).join(Unit, col(Unit.id) == col(Invoice.unit_id))
             .where(Unit.integrator_id == integrator_id, Invoice.status == InvoiceStatus.NEEDS_REVIEW.value,
                    col(Invoice.superseded_by_id).is_(None))
             .order_by(col(Invoice.reference_month), col(Invoice.id)))
    return list(session.exec(query).all())


def month_taken(*, session: Session, invoice: Invoice, reference_month: str) -> bool:
    """Whether another current bill of the same unit already holds `reference_month`."""
    query = select(Invoice.id).where(Invoice.unit_id == invoice.unit_id, Invoice.reference_month == reference_month,
                                     col(Invoice.superseded_by_id).is_(None), Invoice.id != invoice.id)
    return session.exec(query).first() is not None


def record_review(*, session: Session, invoice: Invoice, values: dict[str, Any], reviewed_by: str,
                  now: datetime) -> Invoice:
    """Make a reviewed bill `parsed`: `values` (bill-schema field → typed value) replace what was read.

    The JSON keeps the bill schema's forms (decimal strings, ISO dates); a field whose value changed gets
    the source `review`. The reasons it waited for are cleared: the person's confirmation settles them.
    """
    data = dict(invoice.data)
    sources = dict(data.get("sources") or {})
    scee = dict(data.get("scee") or {})
    for name, value in values.items():
        text = None if value is None else (value.isoformat() if isinstance(value, date) else str(value))
        if name in SCEE_FIELDS:
            if scee.get(name) != text:
                sources[name] = "review"
            scee[name] = text
        else:
            if data.get(name) != text:
                sources[name] = "review"
            data[name] = text
        if name in _TYPED:
            setattr(invoice, name, value)
    if scee and any(v is not None for v in scee.values()):
        data["scee"] = scee
    data["sources"] = sources
    if invoice.reference_month != values.get("reference_month", invoice.reference_month):
        month = values["reference_month"]
        versions = session.exec(select(Invoice.version).where(Invoice.unit_id == invoice.unit_id,
                                                              Invoice.reference_month == month)).all()
        invoice.version = max(versions, default=0) + 1
        invoice.reference_month = month
    invoice.data = data
    invoice.status = InvoiceStatus.PARSED.value
    invoice.review_reasons = []
    invoice.reviewed_by = reviewed_by
    invoice.reviewed_at = now
    session.add(invoice)
    session.flush()
    return invoice
