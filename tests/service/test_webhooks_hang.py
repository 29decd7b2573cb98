"""A webhook receiver that never answers holds no transaction: everyone else keeps writing (issue 14, item 5)."""

from __future__ import annotations

import socket
import threading
import time

import httpx
from sqlmodel import select

from service.webhooks import register_endpoint, run_webhooks
from storage.adhesion import finish_attempt, start_attempt
from storage.engine import session_scope
from storage.models import AdhesionStatus, Unit
from storage.web_models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.service.test_webhooks import Receiver


class HangingReceiver:
    """A TCP server that reads the request and never answers (until closed)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hooks"
        self.got_request = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)
            conn.recv(65536)
            self.got_request.set()

    def close(self) -> None:
        self.sock.close()
        for conn in self.connections:
            conn.close()


def test_a_receiver_that_never_answers_does_not_block_another_writer(web):
    ana = web.user("ana@solar.example.com")
    unit_id = web.unit(ana, 1)
    keys = web.app.keys()
    fast, hanging = Receiver(), HangingReceiver()
    try:
        with session_scope(web.app.engine) as session:
            quick, _ = register_endpoint(session=session, keys=keys, integrator_id=ana, url=fast.url,
                                         events=["adhesion.changed"])
            register_endpoint(session=session, keys=keys, integrator_id=ana, url=hanging.url,
                              events=["adhesion.changed"])
            unit = session.get(Unit, unit_id)
            attempt = start_attempt(session=session, unit=unit)
            finish_attempt(session=session, attempt=attempt, unit=unit, status=AdhesionStatus.ENROLLED,
                           message="ok", step="verify_enrolled")
        reports = []
        with httpx.Client(timeout=6) as client:
            sender = threading.Thread(target=lambda: reports.append(
                run_webhooks(engine=web.app.engine, keys=keys, max_attempts=3, backoff_s=60, client=client)))
            sender.start()
            assert hanging.got_request.wait(10)
            started = time.monotonic()
            with session_scope(web.app.engine) as session:  # the integrator removes the quick receiver
                session.delete(session.get(WebhookEndpoint, quick.id))
                session.get(Unit, unit_id).client_name = "Renamed While Sending"
            took = time.monotonic() - started
            sender.join(30)
        assert took < 2, f"a writer waited {took:.1f}s for a webhook delivery"
        (report,) = reports
        assert (report.queued, report.delivered, report.retried) == (2, 1, 1)
        assert len(fast.received) == 1
        with session_scope(web.app.engine) as session:
            (left,) = session.exec(select(WebhookDelivery)).all()  # the quick one went with its endpoint
            assert left.status == DeliveryStatus.PENDING.value and "Timeout" in left.last_response
            assert left.attempts == 1 and left.next_attempt_at is not None
    finally:
        fast.close()
        hanging.close()
