"""IMAP IDLE: start a mail pass as soon as a bill arrives instead of waiting for the next poll.

One thread per mailbox keeps an IDLE session open, re-issues it before RFC 2177's 29 minutes, and
reconnects with backoff when the server or the network drops it. Polling stays on as the safety net;
a server without IDLE simply leaves polling alone.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import structlog

from processor.config import MailAccount
from processor.errors import MailboxUnavailable
from processor.fetch import open_mailbox

log = structlog.get_logger(__name__)
RENEW_S = 25 * 60  # re-issue IDLE well before the 29 minutes after which servers may log us off
STEP_S = 2.0       # how often the IDLE wait looks at the stop flag


class IdleWatcher(threading.Thread):
    """Calls `on_new_mail` whenever the server announces new messages in the account's inbox."""

    def __init__(self, account: MailAccount, on_new_mail: Callable[[], None], stop: threading.Event,
                 *, renew_s: float = RENEW_S, max_backoff_s: float = 300.0) -> None:
        super().__init__(name=f"idle-{account.name}", daemon=True)
        self.account = account
        self.on_new_mail = on_new_mail
        self.stop_event = stop
        self.renew_s = renew_s
        self.max_backoff_s = max_backoff_s
        self.supported: bool | None = None
        self.sessions = 0
        """IDLE sessions opened so far (a reconnect opens another)."""

    def run(self) -> None:
        """Watch until stopped; network trouble means reconnecting, never giving up."""
        backoff = 1.0
        with structlog.contextvars.bound_contextvars(account=self.account.name, job="mail_idle"):
            while not self.stop_event.is_set():
                try:
                    if not self._session():
                        return
                    backoff = 1.0
                except (MailboxUnavailable, OSError, Exception) as exc:  # noqa: BLE001 - any drop: reconnect
                    log.warning("mail_idle_reconnecting", error=type(exc).__name__, wait_s=backoff)
                    self.stop_event.wait(backoff)
                    backoff = min(backoff * 2, self.max_backoff_s)

    def _session(self) -> bool:
        """One connection: IDLE in rounds until stopped; False when the server has no IDLE."""
        with open_mailbox(self.account) as box:
            if "IDLE" not in box.client.capabilities:
                self.supported = False
                log.info("mail_idle_unsupported")
                return False
            self.supported = True
            box.folder.set(self.account.inbox)
            self.sessions += 1
            log.info("mail_idle_started", session=self.sessions)
            while not self.stop_event.is_set():
                if self._round(box):
                    log.info("mail_idle_new_mail")
                    self.on_new_mail()
        return True

    def _round(self, box) -> bool:  # noqa: ANN001 - an imap-tools mailbox
        """One IDLE command, ended on new mail, on stop, or before the renewal deadline."""
        box.idle.start()
        started = time.monotonic()
        new_mail = False
        quick_empty = 0
        try:
            while not self.stop_event.is_set() and time.monotonic() - started < self.renew_s:
                asked = time.monotonic()
                responses = box.idle.poll(timeout=STEP_S)
                if any(line.startswith(b"* BYE") for line in responses):
                    raise ConnectionError("the server ended the IDLE session (BYE)")
                if any(b"EXISTS" in line for line in responses):
                    new_mail = True
                    break
                # imap-tools reports a closed socket as "no news" at once: several in a row mean EOF.
                quick_empty = quick_empty + 1 if not responses and time.monotonic() - asked < STEP_S / 4 else 0
                if quick_empty >= 3:
                    raise ConnectionError("the IDLE connection was closed")
        finally:
            with contextlib.suppress(Exception):  # on a dropped connection there is nothing to end
                box.idle.stop()
        return new_mail
