"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator):
    """A moment, stored with its time zone where the database keeps one, always read back aware in UTC.

    SQLite has no time zone type: SQLAlchemy writes the UTC wall clock and reads it back naive, so an API
    answer served from SQLite said `2026-12-02T10:00:00` where PostgreSQL said `…+00:00`, and comparing
    it with an aware moment raised. Values are converted to UTC on the way in and marked UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:  # noqa: ANN401
        """To UTC before it is written."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # naive moments in this code base are UTC
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:  # noqa: ANN401
        """Aware, in UTC, whatever the database kept."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
