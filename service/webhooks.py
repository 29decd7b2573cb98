"""Webhooks: `invoice.received`, `invoice.payee_mismatch`, `adhesion.changed`, `alert.raised`; HMAC-signed, retried.

The outbox is filled by scanning what happened (new bills, finished adhesion attempts) since each endpoint
was registered, and the report's alerts that hold now (`reports.alerts`, the dashboard's and the digest's),
with an idempotency key per event (`invoice.received:<invoice id>`, `adhesion.changed:<attempt id>`,
`alert.raised:<unit id>:<code>:<month>` — an alert with no month, a missing bill, is keyed by the day it was
raised, so it is sent again each day it still holds): scanning twice, or from two workers, queues an event
once. The scheduler calls `run_webhooks` every minute or so; it is safe to call from several processes
(PostgreSQL rows are taken with SKIP LOCKED).

A delivery is a POST of the JSON payload with headers:
    X-Faturas-Event: invoice.received
    X-Faturas-Delivery: <delivery id>
    Idempotency-Key: invoice.received:42        (the same on every retry: receivers deduplicate on it)
    X-Faturas-Timestamp: 1764300000
    X-Faturas-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's secret>
Any 2xx is delivered; anything else (or a network error) is retried after backoff_s * 2**(attempts-1),
up to max_attempts, then marked failed. No transaction is open while a receiver is called: deliveries
are claimed and committed, sent, then each outcome is recorded in its own short transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import httpx
import structlog
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from reports.alerts import Alert, AlertThresholds, unit_alerts
from reports.monthly import monthly_rows
from storage.engine import session_scope
from storage.invoices import list_invoices, payee_mismatches
from storage.mail_models import Invoice
from storage.models import AdhesionAttempt, Unit, utcnow
from storage.secrets import KeyRing
from storage.web_models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
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


def _alert_payload(unit: Unit, alert: Alert) -> dict:
    return {"event": WebhookEvent.ALERT_RAISED.value,
            "data": {"unit_id": unit.id, "installation": unit.installation, "uc_code": unit.uc_code,
                     "code": alert.code, "month": alert.month, "actor": alert.actor, "title": alert.title,
                     "detail": alert.detail, "raised_on": alert.raised_on.isoformat()}}


def _queue_alerts(*, session: Session, endpoint: WebhookEndpoint, limits: AlertThresholds, today: date) -> int:
    queued = 0
    units = session.exec(select(Unit).where(Unit.integrator_id == endpoint.integrator_id).order_by(col(Unit.id)))
    for unit in units.all():
        rows = monthly_rows(list_invoices(session=session, unit_id=unit.id))
        fakes = payee_mismatches(session=session, unit_id=unit.id or 0)
        for alert in unit_alerts(unit.id or 0, rows, adhesion_status=unit.adhesion_status, limits=limits,
                                 today=today, payee_mismatches=fakes):
            key = f"alert.raised:{unit.id}:{alert.code}:{alert.month or alert.raised_on.isoformat()}"
            queued += queue_delivery(session=session, endpoint=endpoint, event=WebhookEvent.ALERT_RAISED.value,
                                     idempotency_key=key, payload=_alert_payload(unit, alert)) is not None
    return queued


def queue_events(*, session: Session, alert_limits: AlertThresholds | None = None, today: date | None = None) -> int:
    """Queue every event that happened since each endpoint was registered; returns how many were new.

    Alerts are looked for only when `alert_limits` is given (the scheduler passes the `[report]` thresholds).
    """
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
        if WebhookEvent.PAYEE_MISMATCH.value in endpoint.events:
            invoices = session.exec(select(Invoice).where(col(Invoice.unit_id).in_(units),
                                                          col(Invoice.created_at) >= endpoint.created_at)).all()
            for invoice in invoices:
                if "payee_mismatch" not in (invoice.review_reasons or []):
                    continue
                payload = {"event": WebhookEvent.PAYEE_MISMATCH.value, "data": _invoice_payload(invoice)}
                queued += queue_delivery(session=session, endpoint=endpoint, event=payload["event"],
                                         idempotency_key=f"invoice.payee_mismatch:{invoice.id}",
                                         payload=payload) is not None
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
        if alert_limits is not None and WebhookEvent.ALERT_RAISED.value in endpoint.events:
            queued += _queue_alerts(session=session, endpoint=endpoint, limits=alert_limits,
                                    today=today or utcnow().date())
    return queued


@dataclass(frozen=True)
class WebhookReport:
    """One run: events queued, deliveries delivered, retried and failed for good."""

    queued: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0


CLAIM_SECONDS = 300
"""A claimed delivery is hidden from other runs this long; a run that dies mid-send is retried after it."""


@dataclass(frozen=True)
class _Outgoing:
    """A claimed delivery, ready to send without the database: id, receiver, signed body and headers."""

    id: int
    url: str
    body: bytes
    headers: dict[str, str] = field(repr=False)
    attempts: int


def claim_due(*, session: Session, keys: KeyRing, now: datetime) -> list[_Outgoing]:
    """Take the due deliveries (count the attempt, hide them for CLAIM_SECONDS) and sign them; no network.

    Each row is taken by a compare-and-set on its attempt count, so two runs never take the same one
    (PostgreSQL also skips rows another run has locked). The caller commits before sending.
    """
    out: list[_Outgoing] = []
    for delivery in due_deliveries(session=session, now=now):
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
        if endpoint is None:
            continue
        taken = session.execute(
            update(WebhookDelivery).where(col(WebhookDelivery.id) == delivery.id,
                                          col(WebhookDelivery.attempts) == delivery.attempts,
                                          col(WebhookDelivery.status) == DeliveryStatus.PENDING.value)
            .values(attempts=delivery.attempts + 1, next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
            .execution_options(synchronize_session=False))
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            continue
        body = json.dumps({**delivery.payload, "idempotency_key": delivery.idempotency_key},
                          separators=(",", ":"), sort_keys=True).encode()
        timestamp = int(now.timestamp())
        headers = {"Content-Type": "application/json", "X-Faturas-Event": delivery.event,
                   "X-Faturas-Delivery": str(delivery.id), "Idempotency-Key": delivery.idempotency_key,
                   "X-Faturas-Timestamp": str(timestamp),
                   "X-Faturas-Signature": sign(keys.decrypt(endpoint.secret_enc), timestamp, body)}
        out.append(_Outgoing(id=delivery.id or 0, url=endpoint.url, body=body, headers=headers,
                             attempts=delivery.attempts + 1))
    return out


def _record(*, session: Session, outgoing: _Outgoing, ok: bool, answer: str, max_attempts: int, backoff_s: float,
            now: datetime) -> str:
    """Write one send's outcome; returns delivered / failed / retried (or gone: the endpoint was removed)."""
    delivery = session.get(WebhookDelivery, outgoing.id)
    if delivery is None:
        return "gone"
    delivery.last_response = answer
    if ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED.value, now, None
        verdict = "delivered"
    elif outgoing.attempts >= max_attempts:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED.value, None
        verdict = "failed"
    else:
        delivery.next_attempt_at = now + timedelta(seconds=backoff_s * 2 ** (outgoing.attempts - 1))
        verdict = "retried"
    session.add(delivery)
    return verdict


def send_due(*, engine: Engine, keys: KeyRing, client: httpx.Client, max_attempts: int, backoff_s: float,
             now: datetime) -> WebhookReport:
    """Send every due delivery once: claim and commit, send with no transaction open, record each outcome.

    A receiver that never answers holds nothing but its own claimed row (hidden, not locked) for the
    client's timeout; a crash after the claim leaves the row to be retried once its claim expires, and
    receivers deduplicate on the idempotency key.
    """
    with session_scope(engine) as session:
        claimed = claim_due(session=session, keys=keys, now=now)
    counts = {"delivered": 0, "retried": 0, "failed": 0, "gone": 0}
    for outgoing in claimed:
        try:
            response = client.post(outgoing.url, content=outgoing.body, headers=outgoing.headers)
            ok, answer = response.is_success, f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            ok, answer = False, f"{type(exc).__name__}: {exc}"[:1000]
        with session_scope(engine) as session:
            verdict = _record(session=session, outgoing=outgoing, ok=ok, answer=answer, max_attempts=max_attempts,
                              backoff_s=backoff_s, now=now)
        counts[verdict] += 1
        log.info("webhook_sent", delivery_id=outgoing.id, webhook_event=outgoing.headers["X-Faturas-Event"], ok=ok,
                 answer=answer, attempts=outgoing.attempts, verdict=verdict)
    return WebhookReport(delivered=counts["delivered"], retried=counts["retried"], failed=counts["failed"])


def run_webhooks(*, engine: Engine, keys: KeyRing, max_attempts: int = 8, backoff_s: float = 30.0,
                 client: httpx.Client | None = None, now: Callable[[], datetime] = utcnow,
                 alert_limits: AlertThresholds | None = None) -> WebhookReport:
    """Queue new events (alerts too, with `alert_limits`), then send what is due: what the scheduler calls."""
    with session_scope(engine) as session:
        queued = queue_events(session=session, alert_limits=alert_limits, today=now().date())
    own = client is None
    http = client or httpx.Client(timeout=10.0, follow_redirects=False)
    try:
        report = send_due(engine=engine, keys=keys, client=http, max_attempts=max_attempts, backoff_s=backoff_s,
                          now=now())
    finally:
        if own:
            http.close()
    log.info("webhooks_run", queued=queued, delivered=report.delivered, retried=report.retried, failed=report.failed)
    return WebhookReport(queued=queued, delivered=report.delivered, retried=report.retried, failed=report.failed)
