"""What the report keeps besides bills: a unit's expected generation, and the integrators' daily alert digests.

The expected monthly generation (from the system's sizing) is kept as 12 values, January to December; one
value given means the same every month. The report compares it with what the bills show (`reports.monthly`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel

from storage.columns import UtcDateTime
from storage.errors import UnitInputError
from storage.models import utcnow

MAX_MONTHLY_KWH = Decimal(10_000_000)


class ExpectedGeneration(SQLModel, table=True):
    """A unit's expected generation per calendar month, kWh (decimal strings)."""

    __tablename__ = "expected_generation"

    unit_id: int = Field(foreign_key="unit.id", primary_key=True, ondelete="CASCADE")
    monthly_kwh: list[str] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


def parse_plan(values: list[str]) -> list[Decimal]:
    """1 or 12 non-negative kWh values (pt-BR or plain decimals) → 12 Decimals; UnitInputError otherwise."""
    cleaned = [v.strip() for v in values if v.strip()]
    if len(cleaned) not in (1, 12):
        raise UnitInputError("expected_generation", f"give 1 value (every month) or 12 (Jan-Dec), not {len(cleaned)}")
    numbers = []
    for value in cleaned:
        text = value.replace(".", "").replace(",", ".") if "," in value else value
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise UnitInputError("expected_generation", f"{value!r} is not a number of kWh") from exc
        if not number.is_finite() or number < 0 or number > MAX_MONTHLY_KWH:
            raise UnitInputError("expected_generation", f"{value!r} must be between 0 and {MAX_MONTHLY_KWH} kWh")
        numbers.append(number)
    return numbers * 12 if len(numbers) == 1 else numbers


def set_expected_generation(*, session: Session, unit_id: int, values: list[str]) -> list[Decimal]:
    """Register (or replace) a unit's plan; an empty list removes it. Returns the 12 values kept."""
    row = session.get(ExpectedGeneration, unit_id)
    if not [v for v in values if v.strip()]:
        if row is not None:
            session.delete(row)
        return []
    plan = parse_plan(values)
    if row is None:
        row = ExpectedGeneration(unit_id=unit_id, monthly_kwh=[str(v) for v in plan])
    else:
        row.monthly_kwh = [str(v) for v in plan]
        row.updated_at = utcnow()
    session.add(row)
    return plan


def expected_generation(*, session: Session, unit_id: int) -> list[Decimal] | None:
    """The unit's 12 monthly values, or None when none is registered."""
    row = session.get(ExpectedGeneration, unit_id)
    return [Decimal(v) for v in row.monthly_kwh] if row is not None else None


class AlertDigest(SQLModel, table=True):
    """One integrator's daily alert digest, claimed before it is sent: at most one e-mail a day.

    With several workers the primary key decides who sends; after a crash a claimed day is not sent again.
    """

    __tablename__ = "alert_digest"

    integrator_id: int = Field(foreign_key="integrator.id", primary_key=True, ondelete="CASCADE")
    day: str = Field(primary_key=True, max_length=10)
    alerts: int = 0
    sent_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
