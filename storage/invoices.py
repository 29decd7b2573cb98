"""Stored bills (invoices): keyword-only functions over a session the caller owns."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.mail_models import Forward, Invoice


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
