"""/healthz, /readyz and /metrics: on the dashboard, and beside `faturas run --metrics-port` against real servers."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest

from config.context import AppContext
from config.settings import load_settings
from service.health import ReadinessProbe, readiness
from service.metrics import metrics_registry, render_metrics
from storage.engine import session_scope
from storage.models import JobRun, utcnow
from storage.secrets import new_key
from tests.processor.conftest import PASSWORD, USER
from tests.service.test_service import ROOT, _env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _app(tmp_path, database_url, **env) -> AppContext:
    return AppContext(settings=load_settings({"HOME": str(tmp_path), "FATURAS_DATA_DIR": str(tmp_path / "data"),
                                              "FATURAS_DATABASE_URL": database_url, "FATURAS_SECRET_KEYS": new_key(),
                                              **env}))


def test_the_dashboard_answers_health_readiness_and_metrics_without_a_login(web):
    ana = web.user("ana@solar.example.com")
    web.unit(ana, 1)
    web.unit(ana, 2)
    client = web.client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert [c["name"] for c in ready.json()["checks"]] == ["database"]
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'faturas_units{state="pending"} 2.0' in metrics.text
    assert "faturas_outbox_oldest_seconds 0.0" in metrics.text
    assert "ana@solar.example.com" not in metrics.text


def test_unreachable_mailbox_and_relay_make_it_not_ready_with_the_reason(tmp_path, database_url):
    closed = _free_port()  # nothing listens there
    app = _app(tmp_path, database_url, FATURAS_IMAP_HOST="127.0.0.1", FATURAS_IMAP_PORT=str(closed),
               FATURAS_IMAP_TLS="none", FATURAS_IMAP_USER="bills", FATURAS_IMAP_PASSWORD="secret-imap-pw",
               FATURAS_SMTP_HOST="127.0.0.1", FATURAS_SMTP_PORT=str(closed), FATURAS_SMTP_TLS="none")
    app.engine  # noqa: B018 - create the schema
    checks = {c.name: c for c in readiness(app)}
    assert checks["database"].ok
    assert not checks["mailbox:default"].ok and str(closed) in checks["mailbox:default"].detail
    assert not checks["smtp_relay"].ok
    assert not checks["mail_pass"].ok and "faturas run" in checks["mail_pass"].detail
    assert all("secret-imap-pw" not in c.detail for c in checks.values())
    app.close()


def test_readiness_follows_the_last_mail_pass_and_is_cached(tmp_path, database_url, mail):
    dovecot, smtp = mail
    app = _app(tmp_path, database_url, FATURAS_IMAP_HOST=dovecot.host, FATURAS_IMAP_PORT=str(dovecot.imap_port),
               FATURAS_IMAP_TLS="none", FATURAS_IMAP_USER=USER, FATURAS_IMAP_PASSWORD=PASSWORD,
               FATURAS_SMTP_HOST=smtp.host, FATURAS_SMTP_PORT=str(smtp.port), FATURAS_SMTP_TLS="none",
               FATURAS_MAIL_POLL_INTERVAL_S="60")
    with session_scope(app.engine) as session:
        session.add(JobRun(job="mail_poll", started_at=utcnow() - timedelta(seconds=400),
                           finished_at=utcnow() - timedelta(seconds=399)))
    stale = {c.name: c for c in readiness(app)}
    assert stale["mailbox:default"].ok and stale["smtp_relay"].ok
    assert not stale["mail_pass"].ok and "limit 180 s" in stale["mail_pass"].detail
    with session_scope(app.engine) as session:
        run = session.get(JobRun, "mail_poll")
        run.finished_at = utcnow()
        session.add(run)
    now = [100.0]
    probe = ReadinessProbe(app, cache_s=15, clock=lambda: now[0])
    assert all(c.ok for c in probe())
    with session_scope(app.engine) as session:
        run = session.get(JobRun, "mail_poll")
        run.error = "MailboxUnavailable: boom"
        session.add(run)
    assert all(c.ok for c in probe())  # within the cache window
    now[0] += 16
    assert [c.name for c in probe() if not c.ok] == ["mail_pass"]
    registry = metrics_registry(app.engine, stale_after_s=45)
    text = render_metrics(registry).decode()
    assert 'faturas_job_last_failed{job="mail_poll"} 1.0' in text
    assert 'faturas_job_last_duration_seconds{job="mail_poll"}' in text
    app.close()


@pytest.mark.integration
def test_faturas_run_serves_health_and_metrics_on_its_port(tmp_path, mail):
    dovecot, smtp = mail
    port = _free_port()
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'faturas.db'}", new_key(), dovecot, smtp, None)
    with (tmp_path / "run.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "cli", "run", "--metrics-port", str(port)], env=env,
                                   cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:  # noqa: S310
                    ready = json.loads(response.read())
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)  # the service is still starting, or no mail pass has finished yet
        assert ready is not None, (tmp_path / "run.log").read_text()
        assert ready["status"] == "ready" and {c["name"] for c in ready["checks"]} == {
            "database", "mailbox:default", "smtp_relay", "mail_pass"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:  # noqa: S310
            text = response.read().decode()
        assert 'faturas_job_last_finished_timestamp_seconds{job="mail_poll"}' in text
        assert "faturas_workers_live 1.0" in text
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:  # noqa: S310
            assert json.loads(response.read()) == {"status": "ok"}
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine; a listener is not
        again.bind(("127.0.0.1", port))  # nothing listens there any more
