"""Webhooks against a local HTTP receiver: HMAC-SHA256 signature, idempotency key, retries with backoff."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlmodel import select

from config.wiring import build_pipeline
from processor.uploads import import_files
from service.webhooks import register_endpoint, run_webhooks, verify
from storage.adhesion import finish_attempt, start_attempt
from storage.engine import session_scope
from storage.models import AdhesionStatus, Unit, utcnow
from storage.web_models import DeliveryStatus, WebhookDelivery
from tests.processor.mime import bill


class Receiver:
    """A real HTTP server in a thread that answers with the queued status codes and keeps what it got."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def test_events_are_signed_retried_with_backoff_and_sent_once(web, receiver, tmp_path):
    ana = web.user("ana@solar.example.com")
    bia = web.user("bia@solar.example.com")
    unit_id = web.unit(ana, 1)
    other = web.unit(bia, 2)
    keys = web.app.keys()
    with session_scope(web.app.engine) as session:
        _, secret = register_endpoint(session=session, keys=keys, integrator_id=ana, url=receiver.url)
    path = tmp_path / "a.pdf"
    path.write_bytes(bill("3000000001", "2026-10").pdf)
    (stored,) = import_files(build_pipeline(web.app), unit_ref=str(unit_id), paths=[path])
    path.write_bytes(bill("3000000002", "2026-10").pdf)
    import_files(build_pipeline(web.app), unit_ref=str(other), paths=[path])  # bia's: not for ana's endpoint
    with session_scope(web.app.engine) as session:
        unit = session.get(Unit, unit_id)
        attempt = start_attempt(session=session, unit=unit)
        finish_attempt(session=session, attempt=attempt, unit=unit, status=AdhesionStatus.ENROLLED, message="ok",
                       step="verify_enrolled")

    now = utcnow()
    receiver.statuses = [500, 204]  # the first event fails once, the second goes through
    with httpx.Client(timeout=10) as client:
        first = run_webhooks(engine=web.app.engine, keys=keys, max_attempts=3, backoff_s=60, client=client,
                             now=lambda: now)
        assert (first.queued, first.delivered, first.retried) == (2, 1, 1)
        again = run_webhooks(engine=web.app.engine, keys=keys, max_attempts=3, backoff_s=60, client=client,
                             now=lambda: now + timedelta(seconds=30))
        assert (again.queued, again.delivered, again.retried) == (0, 0, 0)  # backoff not over, nothing new
        later = run_webhooks(engine=web.app.engine, keys=keys, max_attempts=3, backoff_s=60, client=client,
                             now=lambda: now + timedelta(seconds=61))
        assert (later.queued, later.delivered) == (0, 1)

    assert len(receiver.received) == 3
    events = []
    for headers, body in receiver.received:
        assert verify(secret, int(headers["x-faturas-timestamp"]), body, headers["x-faturas-signature"])
        assert not verify("whsec_wrong", int(headers["x-faturas-timestamp"]), body, headers["x-faturas-signature"])
        payload = json.loads(body)
        assert payload["idempotency_key"] == headers["idempotency-key"]
        events.append((headers["x-faturas-event"], headers["idempotency-key"]))
    assert events[0] == events[2]  # the retry carries the same idempotency key
    assert sorted(set(events)) == [("adhesion.changed", f"adhesion.changed:{attempt.id}"),
                                   ("invoice.received", f"invoice.received:{stored.invoice_id}")]
    invoice_payload = next(json.loads(b) for h, b in receiver.received if h["x-faturas-event"] == "invoice.received")
    assert invoice_payload["data"]["unit_id"] == unit_id and invoice_payload["data"]["reference_month"] == "2026-10"
    with session_scope(web.app.engine) as session:
        rows = session.exec(select(WebhookDelivery)).all()
        assert sorted(r.status for r in rows) == [DeliveryStatus.DELIVERED.value] * 2
        assert sorted(r.attempts for r in rows) == [1, 2]


def test_a_delivery_that_keeps_failing_is_marked_failed(web, receiver):
    ana = web.user("ana@solar.example.com")
    unit_id = web.unit(ana, 1)
    keys = web.app.keys()
    with session_scope(web.app.engine) as session:
        register_endpoint(session=session, keys=keys, integrator_id=ana, url=receiver.url,
                          events=["adhesion.changed"])
        unit = session.get(Unit, unit_id)
        attempt = start_attempt(session=session, unit=unit)
        finish_attempt(session=session, attempt=attempt, unit=unit, status=AdhesionStatus.INVALID_CREDENTIALS,
                       message="x", step="log_in")
    receiver.statuses = [503, 503]
    now = utcnow()
    with httpx.Client(timeout=10) as client:
        assert run_webhooks(engine=web.app.engine, keys=keys, max_attempts=2, backoff_s=1, client=client,
                            now=lambda: now).retried == 1
        assert run_webhooks(engine=web.app.engine, keys=keys, max_attempts=2, backoff_s=1, client=client,
                            now=lambda: now + timedelta(seconds=2)).failed == 1
    with session_scope(web.app.engine) as session:
        (row,) = session.exec(select(WebhookDelivery)).all()
        assert row.status == "failed" and row.last_response == "HTTP 503" and row.next_attempt_at is None
    with pytest.raises(ValueError):
        with session_scope(web.app.engine) as session:
            register_endpoint(session=session, keys=keys, integrator_id=ana, url="ftp://x", events=None)
