"""Store: the PDF in the blob store and an Invoice row; the same (unit, month) again is a duplicate or a re-issue.

A 2026 bill routed to a unit known only by its installation teaches the unit its UC code here, under the
unit's row lock (`storage.units.learn_uc_code`); when the code belongs to another unit, or the bill came by
upload, the bill is kept for review instead.

A duplicate is the same bill again (same PDF bytes, or the same amount, due date, number and barcode —
CEMIG re-encrypts the PDF each time it sends it); anything else for a month already stored is a re-issue:
a new version that supersedes the previous one. A month never has two current bills.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import structlog
from sqlmodel import Session, select

from processor.types import ReadBill
from storage.blobs import Blobs
from storage.invoices import add_version
from storage.mail_models import Invoice, InvoiceStatus
from storage.models import AdhesionStatus, Unit
from storage.units import learn_uc_code, set_adhesion_status

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class StoreOutcome:
    """What storing one bill did: `new`, `reissue` (a new version) or `duplicate` (nothing stored)."""

    invoice_id: int
    outcome: str
    status: str
    review_reasons: tuple[str, ...] = ()
    invoice: Invoice | None = field(default=None, compare=False, repr=False)
    """The row, in the caller's session (its forwards are queued from it without reading it again)."""


def fingerprint(read: ReadBill) -> str:
    """What makes two copies of a bill the same bill, whatever their bytes."""
    bill = read.bill
    key = [bill.utility, bill.installation, bill.reference_month, bill.amount_due, bill.due_date,
           bill.invoice_number, bill.series, bill.barcode, bill.access_key]
    if read.payee_mismatch:  # a copy whose PIX pays someone else is another document (genuine keys unchanged)
        key.append(list(read.payee_mismatch))
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()


def _decimal(value: str | None) -> Decimal | None:
    try:
        return Decimal(value) if value is not None else None
    except InvalidOperation:
        return None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def store_bill(*, session: Session, blobs: Blobs, unit: Unit, read: ReadBill, source: str,
               mail_message_id: int | None) -> StoreOutcome:
    """Keep the original PDF and record the bill; returns what happened. The caller commits.

    A database blob store writes the PDF in the caller's transaction, so the bill and its PDF commit together.
    """
    bill = read.bill
    month = bill.reference_month or ""
    digest = blobs.within(session).put(read.pdf.original)
    mark = fingerprint(read)
    versions = list(session.exec(select(Invoice).where(Invoice.unit_id == unit.id,
                                                       Invoice.reference_month == month)).all())
    for existing in versions:
        if existing.fingerprint == mark or existing.pdf_sha256 == digest:
            log.info("bill_duplicate", unit_id=unit.id, reference_month=month, invoice_id=existing.id)
            return StoreOutcome(invoice_id=existing.id or 0, outcome="duplicate", status=existing.status,
                                invoice=existing)
    current = next((v for v in versions if v.superseded_by_id is None), None)
    reasons = list(read.review_reasons)
    genuine = not read.payee_mismatch  # a bill paying someone else teaches nothing and replaces nothing
    if read.uc_code_to_learn is not None and genuine:
        if source != "email":
            reasons.append("uc_code_unconfirmed")
        elif not learn_uc_code(session=session, unit=unit, uc_code=read.uc_code_to_learn):
            reasons.append("uc_code_of_another_unit")
    status = InvoiceStatus.NEEDS_REVIEW if reasons else InvoiceStatus.PARSED
    invoice = Invoice(
        unit_id=unit.id or 0, reference_month=month, status=status.value,
        review_reasons=reasons, installation=bill.installation, uc_code=bill.uc_code,
        amount_due=_decimal(bill.amount_due), due_date=_date(bill.due_date),
        consumption_kwh=_decimal(bill.consumption_kwh),
        compensated_kwh=_decimal(bill.scee.compensated_kwh) if bill.scee else None,
        credit_balance_kwh=_decimal(bill.scee.credit_balance_kwh) if bill.scee else None,
        fingerprint=mark, data=bill.model_dump(mode="json"), pdf_sha256=digest,
        pdf_filename=(read.pdf.filename or None), source=source, layout=bill.layout,
        mail_message_id=mail_message_id,
    )
    add_version(session=session, invoice=invoice, previous=current,
                version=max((v.version for v in versions), default=0) + 1, supersede=genuine or current is None)
    outcome = "reissue" if current is not None else "new"
    if source == "email" and genuine and unit.adhesion_status != AdhesionStatus.VERIFIED.value:
        set_adhesion_status(session=session, unit=unit, status=AdhesionStatus.VERIFIED,
                            message=f"Primeira fatura recebida por e-mail (referência {month}).")
        log.info("unit_verified", unit_id=unit.id, reference_month=month)
    log.info("bill_stored", unit_id=unit.id, invoice_id=invoice.id, reference_month=month,
             version=invoice.version, outcome=outcome, status=status.value,
             review_reasons=reasons)
    return StoreOutcome(invoice_id=invoice.id or 0, outcome=outcome, status=status.value,
                        review_reasons=tuple(reasons), invoice=invoice)
