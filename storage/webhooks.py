"""Webhook endpoints and the delivery outbox: keyword-only functions over a caller's session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from storage.engine import savepoint
from storage.web_models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


def add_endpoint(*, session: Session, integrator_id: int, url: str, secret_enc: str,
                 events: list[str]) -> WebhookEndpoint:
    """Register a receiver; only events created from now on are sent to it."""
    endpoint = WebhookEndpoint(integrator_id=integrator_id, url=url, secret_enc=secret_enc, events=list(events))
    session.add(endpoint)
    session.flush()
    return endpoint


def endpoints_of(*, session: Session, integrator_id: int, event: str | None = None) -> list[WebhookEndpoint]:
    """An integrator's active endpoints, optionally only those subscribed to `event`."""
    rows = session.exec(select(WebhookEndpoint).where(WebhookEndpoint.integrator_id == integrator_id,
                                                      col(WebhookEndpoint.active).is_(True))).all()
    return [e for e in rows if event is None or event in e.events]


def queue_delivery(*, session: Session, endpoint: WebhookEndpoint, event: str, idempotency_key: str,
                   payload: dict) -> WebhookDelivery | None:
    """Add an event to the outbox once: the same (endpoint, key) again is ignored (returns None)."""
    exists = session.exec(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id,
                                                        WebhookDelivery.idempotency_key == idempotency_key)).first()
    if exists is not None:
        return None
    delivery = WebhookDelivery(endpoint_id=endpoint.id or 0, event=event, idempotency_key=idempotency_key,
                               payload=payload, next_attempt_at=None)  # None = due now
    try:
        with savepoint(session):
            session.add(delivery)
    except IntegrityError:  # another worker queued it first
        return None
    return delivery


def due_deliveries(*, session: Session, now: datetime, limit: int = 100) -> list[WebhookDelivery]:
    """Pending deliveries whose next attempt is due, oldest first."""
    query = select(WebhookDelivery).where(
        WebhookDelivery.status == DeliveryStatus.PENDING.value,
        or_(col(WebhookDelivery.next_attempt_at).is_(None), col(WebhookDelivery.next_attempt_at) <= now),
    ).order_by(col(WebhookDelivery.id)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.exec(query).all())
