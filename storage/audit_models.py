"""The audit of erasures (storage.holders): kept when everything else about a holder is gone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from storage.columns import UtcDateTime
from storage.models import utcnow


class ErasureAudit(SQLModel, table=True):
    """One erasure: when, by whom, how much was removed; the document only masked."""

    __tablename__ = "erasure_audit"

    id: int | None = Field(default=None, primary_key=True)
    erased_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    actor: str = Field(max_length=320)
    document_masked: str = Field(max_length=32)
    integrator_id: int | None = Field(default=None)
    units: int = 0
    invoices: int = 0
    blobs: int = 0
    sessions: int = 0
    ledger_rows: int = 0
