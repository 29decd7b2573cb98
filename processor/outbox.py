"""The outbox: send due forwards under the `outbox` lease, once each (see `processor.forward` for why once).

`OutboxSender` holds the lease and one SMTP connection across several `send_due` calls; `send_outbox`
is one run of it. Only the lease holder sends, so the mail pass, the service's outbox job and other
workers never send the same row. (Sending from a background thread while the pass reads mail was tried
and dropped: two CPU-bound threads under the GIL cost a third more CPU and were not faster.)
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

import dkim
import structlog
from sqlalchemy import Engine

from processor.config import MailSettings
from processor.errors import ForwardFailed
from processor.forward import close, compose, connect, send, to_wire
from storage.blobs import BlobStore
from storage.engine import session_scope
from storage.mail import acquire_lease, due_forwards, interrupted_forwards, release_lease
from storage.mail_models import Forward, ForwardStatus, Invoice
from storage.models import Unit, utcnow

log = structlog.get_logger(__name__)
OUTBOX_LEASE = "outbox"
MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class OutboxReport:
    """What one outbox run did."""

    sent: int = 0
    retried: int = 0
    parked: int = 0
    unconfirmed: int = 0
    relay_unavailable: bool = False
    busy: bool = False


def _recover(engine: Engine, settings: MailSettings) -> int:
    """Rows a dead worker left in `sending`: resend with the same Message-ID, or park (see forward.py)."""
    with session_scope(engine) as session:
        rows = interrupted_forwards(session=session)
        for row in rows:
            row.unconfirmed_sends += 1
            row.updated_at = utcnow()
            if settings.on_unconfirmed == "park":
                row.status = ForwardStatus.PARKED.value
                row.smtp_response = "outcome unknown: the worker stopped during the SMTP transaction"
            else:
                row.status = ForwardStatus.PENDING.value
                row.next_attempt_at = None
            session.add(row)
            log.warning("forward_outcome_unknown", forward_id=row.id, invoice_id=row.invoice_id,
                        message_id=row.message_id, action=settings.on_unconfirmed)
    return len(rows)


def _record_failure(engine: Engine, forward_id: int, error: ForwardFailed, settings: MailSettings,
                    now: datetime) -> str:
    with session_scope(engine) as session:
        row = session.get(Forward, forward_id)
        assert row is not None  # noqa: S101 - we hold the outbox lease; rows are never deleted meanwhile
        row.smtp_response = (error.response or str(error))[:1000]
        row.updated_at = utcnow()
        if error.permanent or row.attempts >= settings.forward_max_attempts:
            row.status = ForwardStatus.PARKED.value
        else:
            row.status = ForwardStatus.PENDING.value
            delay = timedelta(seconds=settings.forward_backoff_seconds * 2 ** (row.attempts - 1))
            row.next_attempt_at = now + min(delay, MAX_BACKOFF)
        session.add(row)
        return row.status


class OutboxSender:
    """The outbox lease and an SMTP connection, held from `open()` to `close()`; not shared by threads."""

    def __init__(self, *, engine: Engine, settings: MailSettings, blobs: BlobStore, owner: str,
                 now: Callable[[], datetime] = utcnow, dkim_key: bytes | None = None) -> None:
        self.engine, self.settings, self.blobs, self.owner = engine, settings, blobs, owner
        self.now, self.dkim_key = now, dkim_key
        self.counts = {"sent": 0, "retried": 0, "parked": 0}
        self.unconfirmed = 0
        self.relay_down = settings.smtp is None
        self.busy = False
        self.held = False
        self._attempted: set[int] = set()  # tried once in this run: a retry waits for the next run
        self._smtp: smtplib.SMTP | None = None
        self._envelope_from = parseaddr(settings.from_address)[1]

    def open(self) -> bool:
        """Take the lease and take over rows a dead worker left in `sending`; False when busy or no relay."""
        if self.settings.smtp is None:
            return False
        with session_scope(self.engine) as session:
            if not acquire_lease(session=session, name=OUTBOX_LEASE, owner=self.owner,
                                 seconds=self.settings.lease_seconds):
                log.info("outbox_busy")
                self.busy = True
                return False
        self.held = True
        self.unconfirmed += _recover(self.engine, self.settings)
        return True

    def report(self) -> OutboxReport:
        """The counts so far."""
        return OutboxReport(sent=self.counts["sent"], retried=self.counts["retried"],
                            parked=self.counts["parked"], unconfirmed=self.unconfirmed,
                            relay_unavailable=self.relay_down, busy=self.busy)

    def send_due(self) -> None:
        """Send every forward due now (each at most once per run); stops when the relay is down."""
        while self.held and not self.relay_down:
            with session_scope(self.engine) as session:
                if not acquire_lease(session=session, name=OUTBOX_LEASE, owner=self.owner,
                                     seconds=self.settings.lease_seconds):
                    log.warning("outbox_lease_lost")
                    self.held = False
                    return
                batch = [r.id for r in due_forwards(session=session, now=self.now(), limit=200)
                         if r.id not in self._attempted]
            if not batch:
                return
            for forward_id in batch:
                assert forward_id is not None  # noqa: S101
                self._attempted.add(forward_id)
                if not self._send_one(forward_id):
                    return

    def _connection(self) -> smtplib.SMTP | None:
        if self._smtp is None:
            relay = self.settings.smtp
            assert relay is not None  # noqa: S101 - open() refuses without a relay
            try:
                self._smtp = connect(relay)
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("smtp_unavailable", host=relay.host, port=relay.port, error=type(exc).__name__)
                self.relay_down = True
                return None
        return self._smtp

    def _send_one(self, forward_id: int) -> bool:
        """Build, mark `sending`, hand over, record; False when the relay is gone for this run."""
        smtp = self._connection()
        if smtp is None:
            return False
        with session_scope(self.engine) as session:
            row = session.get(Forward, forward_id)
            if row is None or row.status != ForwardStatus.PENDING.value:
                return True
            invoice = session.get(Invoice, row.invoice_id)
            unit = session.get(Unit, invoice.unit_id) if invoice else None
            if invoice is None or unit is None:
                return True
            try:
                message = compose(forward=row, invoice=invoice, unit=unit,
                                  pdf=self.blobs.get(invoice.pdf_sha256), settings=self.settings)
                wire = to_wire(message, settings=self.settings, dkim_key=self.dkim_key)
            except (OSError, ValueError, dkim.DKIMException) as exc:  # a missing blob, a bad key
                row.status, row.updated_at = ForwardStatus.PARKED.value, utcnow()
                row.smtp_response = f"not sent: the message could not be built ({type(exc).__name__})"
                session.add(row)
                self.counts["parked"] += 1
                log.error("forward_not_built", forward_id=forward_id, error=type(exc).__name__)
                return True
            row.status = ForwardStatus.SENDING.value
            row.attempts += 1
            row.updated_at = utcnow()
            session.add(row)
            recipient, invoice_id = row.recipient, row.invoice_id
        try:
            reply = send(smtp, wire, envelope_from=self._envelope_from, recipient=recipient)
        except ForwardFailed as error:
            status = _record_failure(self.engine, forward_id, error, self.settings, self.now())
            self.counts["parked" if status == ForwardStatus.PARKED.value else "retried"] += 1
            log.warning("forward_failed", forward_id=forward_id, invoice_id=invoice_id,
                        permanent=error.permanent, status=status, error=str(error))
            if not error.permanent and error.response is None:  # the connection is gone
                close(smtp)
                self._smtp = None
                self.relay_down = True
                return False
            return True
        with session_scope(self.engine) as session:
            row = session.get(Forward, forward_id)
            assert row is not None  # noqa: S101
            row.status = ForwardStatus.SENT.value
            row.smtp_response = reply
            row.sent_at = row.updated_at = utcnow()
            session.add(row)
        self.counts["sent"] += 1
        log.info("bill_forwarded", forward_id=forward_id, invoice_id=invoice_id, message_id=message["Message-ID"])
        return True

    def close(self) -> None:
        """Quit SMTP and give the lease back."""
        if self._smtp is not None:
            close(self._smtp)
            self._smtp = None
        if self.held:
            with session_scope(self.engine) as session:
                release_lease(session=session, name=OUTBOX_LEASE, owner=self.owner)
            self.held = False


def send_outbox(*, engine: Engine, settings: MailSettings, blobs: BlobStore, owner: str,
                now: Callable[[], datetime] = utcnow, dkim_key: bytes | None = None) -> OutboxReport:
    """Send every due forward once, under the outbox lease; returns counts. Never raises for SMTP trouble."""
    sender = OutboxSender(engine=engine, settings=settings, blobs=blobs, owner=owner, now=now, dkim_key=dkim_key)
    if sender.open():
        try:
            sender.send_due()
        finally:
            sender.close()
    return sender.report()
