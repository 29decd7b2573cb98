"""Tables of the dashboard and the JSON API: integrators, their sessions and tokens, webhooks.

Integrator        a person of a solar integrator who logs into the dashboard; owns units
WebSession        a logged-in browser: the cookie holds a random token, only its sha256 is stored
LoginAttempt      failed logins, for rate limiting by e-mail and by client address
ApiToken          a bearer token for /api/v1 (only its sha256 is stored)
WebhookEndpoint   where an integrator wants events; the HMAC secret is stored encrypted
WebhookDelivery   the webhook outbox: one row per (endpoint, idempotency key), retried with backoff
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.columns import UtcDateTime
from storage.models import utcnow


def _tz(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UtcDateTime(), nullable=nullable))


def _now() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class Integrator(SQLModel, table=True):
    """A dashboard user; units with `integrator_id` = this id are theirs and nobody else's."""

    __tablename__ = "integrator"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    name: str | None = Field(default=None, max_length=200)
    password_hash: str = Field(sa_column=Column(String, nullable=False))
    active: bool = Field(default=True)
    created_at: datetime = _now()


class WebSession(SQLModel, table=True):
    """A browser session; `token_sha256` is the hash of the cookie value."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(max_length=64, unique=True)
    integrator_id: int = Field(foreign_key="integrator.id", index=True, ondelete="CASCADE")
    created_at: datetime = _now()
    expires_at: datetime = _now()


class LoginAttempt(SQLModel, table=True):
    """A failed login, kept for the rate limit window."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    client: str = Field(max_length=64, index=True)
    at: datetime = _now()


class ApiToken(SQLModel, table=True):
    """A bearer token of an integrator for the JSON API; shown once, stored hashed."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    integrator_id: int = Field(foreign_key="integrator.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    token_sha256: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = _now()
    last_used_at: datetime | None = _tz(nullable=True)
    revoked_at: datetime | None = _tz(nullable=True)


class WebhookEvent(enum.StrEnum):
    """Events an integrator can subscribe to."""

    INVOICE_RECEIVED = "invoice.received"
    ADHESION_CHANGED = "adhesion.changed"
    PAYEE_MISMATCH = "invoice.payee_mismatch"
    """A stored bill whose barcode or PIX pays someone but the utility (never forwarded: processor.payee)."""
    ALERT_RAISED = "alert.raised"


class DeliveryStatus(enum.StrEnum):
    """Webhook outbox states: pending (with a next attempt) → delivered, or failed after the last attempt."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookEndpoint(SQLModel, table=True):
    """An integrator's receiver URL; events created after `created_at` are sent to it."""

    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    integrator_id: int = Field(foreign_key="integrator.id", index=True, ondelete="CASCADE")
    url: str = Field(max_length=2000)
    secret_enc: str = Field(sa_column=Column(String, nullable=False))
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = Field(default=True)
    created_at: datetime = _now()


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint; the idempotency key makes queueing the same event twice impossible."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("endpoint_id", "idempotency_key", name="uq_webhook_delivery_key"),)

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", index=True, ondelete="CASCADE")
    event: str = Field(max_length=64)
    idempotency_key: str = Field(max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=DeliveryStatus.PENDING.value, max_length=16, index=True)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = _tz(nullable=True)
    last_response: str | None = Field(default=None, max_length=1000)
    created_at: datetime = _now()
    delivered_at: datetime | None = _tz(nullable=True)
