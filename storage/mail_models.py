"""Tables of the mail pipeline: examined messages, bills (invoices) and the forwarding outbox.

MailMessage   every message the pipeline examined, keyed by (account, folder, UIDVALIDITY, UID)
Invoice       a stored bill: one current version per (unit, reference month); re-issues supersede
Forward       the outbox: one row per (invoice, recipient), ever; our Message-ID is set on creation
MailLease     who works a mailbox (or the outbox) right now; expires so a dead worker's work is taken over
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Date, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.columns import UtcDateTime
from storage.models import utcnow


class MessageStage(enum.StrEnum):
    """Where a message is; every value but CLAIMED is an outcome with a reason in `MailMessage.error`."""

    CLAIMED = "claimed"              # row inserted, work in progress (or interrupted: resumed next pass)
    PARSED = "parsed"                # bill stored, every cross-check passed
    NEEDS_REVIEW = "needs_review"    # bill stored and flagged: a check failed (never forwarded as if fine)
    DUPLICATE = "duplicate"          # the same bill is already stored
    NO_BILL = "no_bill"              # no PDF in the message
    UNREADABLE = "unreadable"        # a PDF that cannot be read or is not a bill we know
    PDF_LOCKED = "pdf_locked"        # encrypted PDF, no password works: the integrator must register it
    TOO_LARGE = "too_large"          # an attachment over the size limit
    UNROUTABLE = "unroutable"        # no unit has the recipient address
    DKIM_FAILED = "dkim_failed"      # DKIM did not pass under policy `require`
    PAYEE_MISMATCH = "payee_mismatch"  # bill stored for review, never forwarded: its barcode/PIX pays someone else
    # a bill at a portal login's inbox for an installation of no unit of that login: kept in the inbox
    # (never settled) until the unit is registered, then claimed again and processed once
    UNREGISTERED_INSTALLATION = "unregistered_installation"


WAITING_STAGES = frozenset({MessageStage.UNREGISTERED_INSTALLATION})


STORED_STAGES = frozenset({MessageStage.PARSED, MessageStage.NEEDS_REVIEW, MessageStage.DUPLICATE,
                           MessageStage.PAYEE_MISMATCH})


class InvoiceStatus(enum.StrEnum):
    """Whether a stored bill can be trusted."""

    PARSED = "parsed"
    NEEDS_REVIEW = "needs_review"


class ForwardStatus(enum.StrEnum):
    """Outbox states: pending → sending → sent, or parked (5xx / too many attempts)."""

    PENDING = "pending"
    SENDING = "sending"    # committed just before the SMTP transaction: found on recovery = outcome unknown
    SENT = "sent"
    PARKED = "parked"


FINAL_FORWARD_STATES = frozenset({ForwardStatus.SENT, ForwardStatus.PARKED})


def _tz(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UtcDateTime(), nullable=nullable))


class MailMessage(SQLModel, table=True):
    """One examined message: claimed before any work, then each stage writes its outcome here."""

    __tablename__ = "mail_message"
    __table_args__ = (
        UniqueConstraint("account", "folder", "uidvalidity", "uid", name="uq_mail_message_mailbox_uid"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=64)
    folder: str = Field(max_length=200)
    uidvalidity: int = Field(sa_column=Column(BigInteger, nullable=False))
    uid: int = Field(sa_column=Column(BigInteger, nullable=False))
    message_id: str | None = Field(default=None, max_length=998, index=True)
    sender: str | None = Field(default=None, max_length=320)
    subject: str | None = Field(default=None, max_length=998)
    sent_date: datetime | None = _tz(nullable=True)
    recipient: str | None = Field(default=None, max_length=320)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True, ondelete="SET NULL")
    dkim: str | None = Field(default=None, max_length=16)
    portal_login_id: int | None = Field(default=None, foreign_key="portal_login.id", index=True,
                                        ondelete="SET NULL")
    """The portal login whose inbox received it (routing by the bill); set with the bill_* fields below."""
    bill_installation: str | None = Field(default=None, max_length=10)
    bill_uc_code: str | None = Field(default=None, max_length=15)
    bill_holder_name: str | None = Field(default=None, max_length=200)
    """What the bill printed, kept for a message waiting for its unit (pre-fills "Cadastrar esta instalação")."""
    stage: str = Field(default=MessageStage.CLAIMED.value, max_length=32, index=True)
    error: str | None = Field(default=None, max_length=2000)
    user_message: str | None = Field(default=None, max_length=2000)
    size: int | None = Field(default=None)
    attempts: int = Field(default=1)
    settle_folder: str | None = Field(default=None, max_length=200)
    settled_at: datetime | None = _tz(nullable=True)
    dkim_domains: str | None = Field(default=None, max_length=1000)
    """Every `d=` of the message's DKIM signatures, comma-separated, in order (grouping of `dkim_failed`)."""
    released_at: datetime | None = _tz(nullable=True)
    """When an operator's trust sent this `dkim_failed` message back to the inbox (it is then processed anew)."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class Invoice(SQLModel, table=True):
    """A stored bill. (unit, reference month) has one current version; a re-issue supersedes it."""

    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("unit_id", "reference_month", "version", name="uq_invoice_unit_month_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True, ondelete="CASCADE")
    reference_month: str = Field(max_length=7)
    version: int = Field(default=1)
    superseded_by_id: int | None = Field(default=None)
    status: str = Field(max_length=16, index=True)
    review_reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    installation: str | None = Field(default=None, max_length=15)
    uc_code: str | None = Field(default=None, max_length=15)
    """The 15-digit UC code the bill prints (2026 bills), zero-padded; None on earlier bills."""
    amount_due: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    due_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    consumption_kwh: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    compensated_kwh: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    credit_balance_kwh: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    fingerprint: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    pdf_sha256: str = Field(max_length=64)
    pdf_filename: str | None = Field(default=None, max_length=255)
    source: str = Field(max_length=16)
    layout: str | None = Field(default=None, max_length=64)
    mail_message_id: int | None = Field(default=None, foreign_key="mail_message.id", index=True,
                                        ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    reviewed_by: str | None = Field(default=None, max_length=254)
    """The e-mail of the integrator's user who confirmed or corrected the bill on the review screen."""
    reviewed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class Forward(SQLModel, table=True):
    """The outbox: a bill is sent to a person once. Our Message-ID is chosen and stored on creation."""

    __tablename__ = "forward"
    __table_args__ = (UniqueConstraint("invoice_id", "recipient", name="uq_forward_invoice_recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True, ondelete="CASCADE")
    recipient: str = Field(max_length=320)
    status: str = Field(default=ForwardStatus.PENDING.value, max_length=16, index=True)
    attempts: int = Field(default=0)
    unconfirmed_sends: int = Field(default=0)
    next_attempt_at: datetime | None = _tz(nullable=True)
    smtp_response: str | None = Field(default=None, max_length=1000)
    message_id: str = Field(max_length=998, unique=True)
    sent_at: datetime | None = _tz(nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class TrustedSender(SQLModel, table=True):
    """A DKIM signing domain an operator trusts for a utility, beside the settings' `sending_domains`."""

    __tablename__ = "trusted_sender"
    __table_args__ = (UniqueConstraint("utility", "domain", name="uq_trusted_sender_utility_domain"),)

    id: int | None = Field(default=None, primary_key=True)
    utility: str = Field(max_length=32)
    domain: str = Field(max_length=253)
    trusted_by: str | None = Field(default=None, max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class MailLease(SQLModel, table=True):
    """A lease on a mailbox shard (`imap:<account>:<folder>[:k/n]`) or an outbox shard (`outbox[:k/n]`)."""

    __tablename__ = "mail_lease"

    name: str = Field(primary_key=True, max_length=300)
    owner: str | None = Field(default=None, max_length=200)
    expires_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


__all__ = [
    "FINAL_FORWARD_STATES", "STORED_STAGES", "Forward", "ForwardStatus", "Invoice", "InvoiceStatus", "MailLease",
    "MailMessage", "MessageStage", "TrustedSender", "WAITING_STAGES",
]
