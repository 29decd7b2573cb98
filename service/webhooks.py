"""Webhooks: `invoice.received` and `adhesion.changed`, signed with HMAC-SHA256, retried with backoff.

The outbox is filled by scanning what happened (new bills, finished adhesion attempts) since each endpoint
was registered, with an idempotency key per event (`invoice.received:<invoice id>`,
`adhesion.changed:<attempt id>`): scanning twice, or from two workers, queues an event once. The scheduler
calls `run_webhooks` every minute or so; it is safe to call from several processes (PostgreSQL rows are
taken with SKIP LOCKED).

A delivery is a POST of the JSON payload with headers:
    X-Faturas-Event: invoice.received
    X-Faturas-Delivery: <delivery id>
    Idempotency-Key: invoice.received:42        (the same on every retry: receivers deduplicate on it)
    X-Faturas-Timestamp: 1764300000
    X-Faturas-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's secret>
Any 2xx is delivered; anything else (or a network error) is retried after backoff_s * 2**(attempts-1),
up to max_attempts, then marked failed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from storage.engine import session_scope
from storage.mail_models import Invoice
from storage.models import AdhesionAttempt, Unit, utcnow
from storage.secrets import KeyRing
from storage.web_models import DeliveryStatus, WebhookEndpoint, WebhookEvent
from storage.webhooks import add_endpoint, due_deliveries, queue_delivery

log = structlog.get_logger(__name__)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for a body sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    """What a receiver does (documented for integrators; used by tests)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def register_endpoint(*, session: Session, keys: KeyRing, integrator_id: int, url: str,
                      events: list[str] | None = None) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint and return it with its signing secret (shown once; stored encrypted)."""
    if not url.startswith(("http://", "https://")):
        raise ValueError("the webhook URL must start with http:// or https://")
    chosen = events or [e.value for e in WebhookEvent]
    unknown = set(chosen) - {e.value for e in WebhookEvent}
    if unknown:
        raise ValueError(f"unknown events: {', '.join(sorted(unknown))}")
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = add_endpoint(session=session, integrator_id=integrator_id, url=url, secret_enc=keys.encrypt(secret),
                            events=chosen)
    return endpoint, secret


def _invoice_payload(invoice: Invoice) -> dict:
    return {"invoice_id": invoice.id, "unit_id": invoice.unit_id, "reference_month": invoice.reference_month,
            "version": invoice.version, "status": invoice.status, "source": invoice.source,
            "amount_due": None if invoice.amount_due is None else str(invoice.amount_due),
            "due_date": invoice.due_date.isoformat() if invoice.due_date else None}


def queue_events(*, session: Session) -> int:
    """Queue every event that happened since each endpoint was registered; returns how many were new."""
    queued = 0
    for endpoint in session.exec(select(WebhookEndpoint).where(col(WebhookEndpoint.active).is_(True))).all():
        units = select(Unit.id).where(Unit.integrator_id == endpoint.integrator_id)
        if WebhookEvent.INVOICE_RECEIVED.value in endpoint.events:
            invoices = session.exec(select(Invoice).where(col(Invoice.unit_id).in_(units),
                                                          col(Invoice.created_at) >= endpoint.created_at)).all()
            for invoice in invoices:
                payload = {"event": WebhookEvent.INVOICE_RECEIVED.value, "data": _invoice_payload(invoice)}
                queued += queue_delivery(session=session, endpoint=endpoint, event=payload["event"],
                                         idempotency_key=f"invoice.received:{invoice.id}", payload=payload) is not None
        if WebhookEvent.ADHESION_CHANGED.value in endpoint.events:
            attempts = session.exec(select(AdhesionAttempt).where(
                col(AdhesionAttempt.unit_id).in_(units), col(AdhesionAttempt.finished_at).is_not(None),
                col(AdhesionAttempt.started_at) >= endpoint.created_at)).all()
            for attempt in attempts:
                payload = {"event": WebhookEvent.ADHESION_CHANGED.value,
                           "data": {"unit_id": attempt.unit_id, "attempt_id": attempt.id, "status": attempt.outcome,
                                    "step": attempt.step_reached,
                                    "finished_at": attempt.finished_at.isoformat() if attempt.finished_at else None}}
                queued += queue_delivery(session=session, endpoint=endpoint, event=payload["event"],
                                         idempotency_key=f"adhesion.changed:{attempt.id}", payload=payload) is not None
    return queued


@dataclass(frozen=True)
class WebhookReport:
    """One run: events queued, deliveries delivered, retried and failed for good."""

    queued: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0


def send_due(*, session: Session, keys: KeyRing, client: httpx.Client, max_attempts: int, backoff_s: float,
             now: datetime) -> WebhookReport:
    """Send every due delivery once; record the outcome and the next attempt."""
    delivered = retried = failed = 0
    for delivery in due_deliveries(session=session, now=now):
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
        if endpoint is None:
            continue
        body = json.dumps({**delivery.payload, "idempotency_key": delivery.idempotency_key},
                          separators=(",", ":"), sort_keys=True).encode()
        timestamp = int(now.timestamp())
        headers = {"Content-Type": "application/json", "X-Faturas-Event": delivery.event,
                   "X-Faturas-Delivery": str(delivery.id), "Idempotency-Key": delivery.idempotency_key,
                   "X-Faturas-Timestamp": str(timestamp),
                   "X-Faturas-Signature": sign(keys.decrypt(endpoint.secret_enc), timestamp, body)}
        delivery.attempts += 1
        try:
            response = client.post(endpoint.url, content=body, headers=headers)
            ok, answer = response.is_success, f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            ok, answer = False, f"{type(exc).__name__}: {exc}"[:1000]
        delivery.last_response = answer
        if ok:
            delivery.status = DeliveryStatus.DELIVERED.value
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            delivered += 1
        elif delivery.attempts >= max_attempts:
            delivery.status = DeliveryStatus.FAILED.value
            delivery.next_attempt_at = None
            failed += 1
        else:
            delivery.next_attempt_at = now + timedelta(seconds=backoff_s * 2 ** (delivery.attempts - 1))
            retried += 1
        session.add(delivery)
        log.info("webhook_sent", delivery_id=delivery.id, webhook_event=delivery.event, ok=ok, answer=answer,
                 attempts=delivery.attempts)
    return WebhookReport(delivered=delivered, retried=retried, failed=failed)


def run_webhooks(*, engine: Engine, keys: KeyRing, max_attempts: int = 8, backoff_s: float = 30.0,
                 client: httpx.Client | None = None, now: Callable[[], datetime] = utcnow) -> WebhookReport:
    """Queue new events, then send what is due: the function the scheduler calls."""
    with session_scope(engine) as session:
        queued = queue_events(session=session)
    own = client is None
    http = client or httpx.Client(timeout=10.0, follow_redirects=False)
    try:
        with session_scope(engine) as session:
            report = send_due(session=session, keys=keys, client=http, max_attempts=max_attempts,
                              backoff_s=backoff_s, now=now())
    finally:
        if own:
            http.close()
    log.info("webhooks_run", queued=queued, delivered=report.delivered, retried=report.retried, failed=report.failed)
    return WebhookReport(queued=queued, delivered=report.delivered, retried=report.retried, failed=report.failed)
