"""The `blob` table: content-addressed blobs kept in the database itself (`blobs.backend = "database"`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from storage.columns import UtcDateTime
from storage.models import utcnow


class StoredBlob(SQLModel, table=True):
    """One blob: its sha256 (of the clear bytes), whether the payload is encrypted, and the payload."""

    __tablename__ = "blob"

    sha256: str = Field(primary_key=True, max_length=64)
    encrypted: bool = Field(primary_key=True)
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow,
                                 sa_column=Column(UtcDateTime(), nullable=False))
