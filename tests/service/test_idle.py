"""IMAP IDLE against the real Dovecot: a bill is processed at once although polling is hourly."""

from __future__ import annotations

import threading
import time

import pytest
from sqlmodel import func, select

from config.context import AppContext
from config.settings import load_settings
from service.idle import IdleWatcher
from service.scheduler import Service
from storage.engine import session_scope
from storage.mail_models import Invoice
from storage.models import JobRun
from storage.secrets import new_key
from storage.units import create_unit
from tests.factories import unit_in
from tests.processor.conftest import INBOX_POLICY, PASSWORD, USER
from tests.processor.mime import bill_message

pytestmark = pytest.mark.integration


def _settings(tmp_path, database_url, dovecot, smtp, **extra):
    return load_settings({"HOME": str(tmp_path), "FATURAS_DATA_DIR": str(tmp_path / "data"),
                          "FATURAS_DATABASE_URL": database_url, "FATURAS_SECRET_KEYS": new_key(),
                          "FATURAS_IMAP_HOST": dovecot.host, "FATURAS_IMAP_PORT": str(dovecot.imap_port),
                          "FATURAS_IMAP_TLS": "none", "FATURAS_IMAP_USER": USER, "FATURAS_IMAP_PASSWORD": PASSWORD,
                          "FATURAS_SMTP_HOST": smtp.host, "FATURAS_SMTP_PORT": str(smtp.port),
                          "FATURAS_DKIM_POLICY": "off", "FATURAS_MAIL_POLL_INTERVAL_S": "3600",
                          "FATURAS_ADHESION_INTERVAL_S": "3600", **extra})


def _wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)  # watching another thread's progress through the database
    return False


def test_new_mail_starts_a_pass_without_waiting_for_the_poll(database_url, mail, tmp_path):
    dovecot, smtp = mail
    app = AppContext(settings=_settings(tmp_path, database_url, dovecot, smtp))
    with session_scope(app.engine) as session:
        unit = create_unit(session=session, unit_in=unit_in(1), keys=app.keys(), inbox=INBOX_POLICY)
        address = unit.inbox_address
    service = Service(app)
    service.start()
    try:
        assert _wait(lambda: _ran(app, "mail_poll"), 30), "the first scheduled pass never ran"
        dovecot.deliver(USER, bill_message(address, "3000000001", "2026-10"))
        stored = select(func.count()).select_from(Invoice)
        assert _wait(lambda: _count(app, stored) == 1, 30), "IDLE did not start a pass (polling is hourly)"
    finally:
        service.shutdown()
        app.close()


def test_the_watcher_reconnects_after_the_server_drops_it(mail):
    dovecot, smtp = mail
    from tests.processor.conftest import mail_settings

    account = mail_settings(dovecot, smtp).accounts[0]
    stop = threading.Event()
    calls: list[float] = []
    watcher = IdleWatcher(account, lambda: calls.append(time.monotonic()), stop, max_backoff_s=1)
    watcher.start()
    try:
        assert _wait(lambda: watcher.sessions == 1, 15)
        dovecot.kick(USER)  # the server closes every session of the user
        assert _wait(lambda: watcher.sessions == 2, 20), "the watcher did not reconnect"
        dovecot.deliver(USER, b"From: a@b.example\r\nTo: x@y.example\r\nSubject: t\r\n\r\nhi\r\n")
        assert _wait(lambda: len(calls) >= 1, 20), "no new-mail event after the reconnect"
    finally:
        stop.set()
        watcher.join(timeout=10)
    assert not watcher.is_alive()


def _ran(app, job: str) -> bool:
    with session_scope(app.engine) as session:
        return session.get(JobRun, job) is not None


def _count(app, query) -> int:
    with session_scope(app.engine) as session:
        return session.exec(query).one()
