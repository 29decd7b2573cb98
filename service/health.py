"""Is this process healthy, and can it do its work? The checks behind `/healthz` and `/readyz`.

`/healthz` says only that the process answers. `/readyz` checks what the work needs: the database (reachable,
schema at head), every mailbox (login), the SMTP relay (connect, and log in where configured), and that a
mail pass finished recently enough (by any worker: the job table is shared). Logging in to every mailbox on
every probe would hammer the servers, so a result is kept for `cache_s` seconds.
"""

from __future__ import annotations

import smtplib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text

from config.context import AppContext
from processor.errors import MailboxUnavailable
from processor.fetch import open_mailbox
from processor.forward import connect
from storage import migrate
from storage.engine import session_scope
from storage.models import JobRun


@dataclass(frozen=True)
class Check:
    """One readiness check: its name, whether it passed, and a line a person can act on."""

    name: str
    ok: bool
    detail: str


def check_database(app: AppContext) -> Check:
    """The database answers and its schema is at head."""
    try:
        with app.raw_engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current, head = migrate.current_revision(app.raw_engine), migrate.head_revision(app.raw_engine)
    except Exception as exc:  # noqa: BLE001 - any driver error means "not reachable"
        return Check("database", False, f"unreachable: {type(exc).__name__}")
    if current != head:
        return Check("database", False, f"schema at {current or 'empty'}, expected {head}: run `faturas db upgrade`")
    return Check("database", True, f"reachable, schema at {head}")


def check_mailboxes(app: AppContext) -> list[Check]:
    """Every configured mailbox accepts the login."""
    checks = []
    for account in app.settings.mail.accounts:
        try:
            with open_mailbox(account):
                pass
            checks.append(Check(f"mailbox:{account.name}", True, f"logged in at {account.host}"))
        except MailboxUnavailable as exc:
            checks.append(Check(f"mailbox:{account.name}", False, str(exc)))
    return checks


def check_relay(app: AppContext) -> list[Check]:
    """The SMTP relay accepts a connection (and the login, where configured); none when there is no relay."""
    relay = app.settings.mail.smtp
    if relay is None:
        return []
    try:
        smtp = connect(relay)
        smtp.quit()
    except (OSError, smtplib.SMTPException) as exc:
        return [Check("smtp_relay", False, f"{relay.host}:{relay.port}: {type(exc).__name__}")]
    return [Check("smtp_relay", True, f"{relay.host}:{relay.port} accepts connections")]


def _aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _mail_pass(app: AppContext, max_age_s: float, now: datetime) -> list[Check]:
    if not app.settings.mail.accounts:
        return []
    with session_scope(app.raw_engine) as session:
        run = session.get(JobRun, "mail_poll")
        finished, error = (_aware(run.finished_at), run.error) if run is not None else (None, None)
    if finished is None:
        return [Check("mail_pass", False, "no mail pass has finished yet: is `faturas run` running?")]
    age = (now - finished).total_seconds()
    if age > max_age_s:
        return [Check("mail_pass", False, f"the last mail pass finished {age:.0f} s ago (limit {max_age_s:.0f} s)")]
    if error:
        return [Check("mail_pass", False, f"the last mail pass failed: {error}")]
    return [Check("mail_pass", True, f"last finished {age:.0f} s ago")]


def readiness(app: AppContext, *, now: datetime | None = None) -> list[Check]:
    """Every readiness check, in order: database, mailboxes, relay, last mail pass."""
    database = check_database(app)
    checks = [database, *check_mailboxes(app), *check_relay(app)]
    if database.ok:
        max_age = max(3 * app.settings.mail_poll_interval_s, 120.0)
        checks += _mail_pass(app, max_age, now or datetime.now(UTC))
    return checks


class ReadinessProbe:
    """`readiness()` with its result kept for `cache_s` seconds, safe to call from several threads."""

    def __init__(self, app: AppContext, *, cache_s: float = 15.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.cache_s = cache_s
        self.clock = clock
        self._lock = threading.Lock()
        self._result: tuple[float, list[Check]] | None = None

    def __call__(self) -> list[Check]:
        """The checks, fresh or at most `cache_s` old."""
        with self._lock:
            if self._result is None or self.clock() - self._result[0] > self.cache_s:
                self._result = (self.clock(), readiness(self.app))
            return self._result[1]
