"""The outbox: send due forwards under the outbox leases, once each (see `processor.forward` for why once).

`send_outbox` is one run of an `OutboxSender`. Forwards are split in shards, one lease each; only a
shard's lease holder sends its rows, so the mail pass, the service's outbox job and other workers never
send the same row. (Sending from a background thread while the pass reads mail was tried and dropped:
two CPU-bound threads under the GIL cost a third more CPU and were not faster.)
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

import dkim
import structlog
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from processor.config import MailSettings
from processor.errors import ForwardFailed
from processor.forward import close, compose, connect, send, to_wire
from processor.report_attachment import monthly_report
from processor.types import Shard, outbox_lease, shards_from
from storage.blobs import Blobs
from storage.engine import session_scope
from storage.mail import (
    acquire_lease,
    due_forwards,
    interrupted_forwards,
    live_leases,
    outbox_shard_has_work,
    release_lease,
)
from storage.mail_models import Forward, ForwardStatus, Invoice
from storage.models import Unit, utcnow

log = structlog.get_logger(__name__)
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


def _recover(engine: Engine, settings: MailSettings, shard: Shard) -> int:
    """Rows of this shard a dead worker left in `sending`: resend with the same Message-ID, or park.

    Only the holder of a shard's lease sends its rows, so a row of a shard we now hold that is still in
    `sending` was left by a worker that died mid-send (see forward.py for why resending is safe).
    """
    with session_scope(engine) as session:
        rows = interrupted_forwards(session=session, shard_index=shard.index, shard_count=shard.count)
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


def _set_forward(session: Session, forward_id: int, current: ForwardStatus | None, **values) -> bool:  # noqa: ANN003
    """Update one forward in one statement, without reading it; with `current`, only while in that status."""
    query = update(Forward).where(Forward.id == forward_id)
    if current is not None:
        query = query.where(Forward.status == current.value)
    result = session.execute(query.values(updated_at=utcnow(), **values).execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


def _foreign_shard_leases(session: Session, shard: Shard, owner: str) -> list[str]:
    """Outbox leases another live worker holds under a different shard count.

    Two workers that split the outbox differently would each hold a lease covering the same rows, and
    one would take the other's in-flight sends for interrupted ones: such a worker does not send at all.
    """
    ours = {outbox_lease(Shard(index=i, count=shard.count)) for i in range(shard.count)}
    return sorted(name for name, holder in live_leases(session=session, prefix="outbox").items()
                  if holder != owner and name not in ours)


class OutboxSender:
    """One outbox run over every shard whose lease is free, through one SMTP connection; not shared by threads.

    The outbox is split like the inboxes (forward id modulo `settings.shards`, one lease per shard), so
    several workers send at once instead of one worker sending everybody's forwards while the others wait.
    """

    def __init__(self, *, engine: Engine, settings: MailSettings, blobs: Blobs, owner: str,
                 now: Callable[[], datetime] = utcnow, dkim_key: bytes | None = None) -> None:
        self.engine, self.settings, self.blobs, self.owner = engine, settings, blobs, owner
        self.now, self.dkim_key = now, dkim_key
        self.counts = {"sent": 0, "retried": 0, "parked": 0}
        self.unconfirmed = 0
        self.relay_down = settings.smtp is None
        self.busy = False
        self._attempted: set[int] = set()  # tried once in this run: a retry waits for the next run
        self._unrecorded: tuple[int, str, datetime] | None = None  # sent; `sent` goes in the next commit
        self._smtp: smtplib.SMTP | None = None
        self._envelope_from = parseaddr(settings.from_address)[1]

    def run(self) -> None:
        """Send each free shard's due forwards (each at most once); stops when the relay is down."""
        if self.settings.smtp is None:
            return
        shards = shards_from(self.owner, self.settings.shards)
        busy = with_work = 0
        try:
            for shard in shards:
                if self.relay_down:
                    break
                if not self._has_work(shard):  # a read instead of three lease writes (and WAL flushes)
                    continue
                with_work += 1
                if not self._run_shard(shard):
                    busy += 1
        finally:
            if self._unrecorded is not None:  # only when giving a lease back failed: that lease is still ours
                with session_scope(self.engine) as session:
                    self._record_sent(session)
                self._unrecorded = None
            if self._smtp is not None:
                close(self._smtp)
                self._smtp = None
        self.busy = with_work > 0 and busy == with_work
        if self.busy:
            log.info("outbox_busy")

    def report(self) -> OutboxReport:
        """The counts so far."""
        return OutboxReport(sent=self.counts["sent"], retried=self.counts["retried"],
                            parked=self.counts["parked"], unconfirmed=self.unconfirmed,
                            relay_unavailable=self.relay_down, busy=self.busy)

    def _has_work(self, shard: Shard) -> bool:
        """Whether the shard has anything to send or to recover: an empty shard is not leased at all."""
        with session_scope(self.engine) as session:
            return outbox_shard_has_work(session=session, now=self.now(), shard_index=shard.index,
                                         shard_count=shard.count)

    def _run_shard(self, shard: Shard) -> bool:
        """One shard under its lease: take over interrupted rows, send the due ones; False when leased elsewhere."""
        lease = outbox_lease(shard)
        with session_scope(self.engine) as session:
            if not acquire_lease(session=session, name=lease, owner=self.owner, seconds=self.settings.lease_seconds):
                return False
            foreign = _foreign_shard_leases(session, shard, self.owner)
            if foreign:
                release_lease(session=session, name=lease, owner=self.owner)
                log.error("outbox_shards_mismatch", leases=foreign, shards=shard.count,
                          remedy="every worker must run with the same FATURAS_MAIL_SHARDS")
                return False
        try:
            self.unconfirmed += _recover(self.engine, self.settings, shard)
            self._send_due(shard, lease)
        finally:
            # The last send's `sent` mark goes in with the release: a row left `sending` under a free lease
            # is what the next holder takes for an interrupted send, and it would send that bill again.
            with session_scope(self.engine) as session:
                self._record_sent(session)
                release_lease(session=session, name=lease, owner=self.owner)
            self._unrecorded = None
        return True

    def _send_due(self, shard: Shard, lease: str) -> None:
        while not self.relay_down:
            with session_scope(self.engine) as session:
                if not acquire_lease(session=session, name=lease, owner=self.owner,
                                     seconds=self.settings.lease_seconds):
                    log.warning("outbox_lease_lost", lease=lease)
                    return
                batch = [r.id for r in due_forwards(session=session, now=self.now(), limit=200,
                                                    shard_index=shard.index, shard_count=shard.count)
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

    def _record_sent(self, session: Session) -> None:
        """Mark the forward the relay last accepted `sent`, in `session`; the caller forgets it once committed.

        One commit less per forward: the mark rides in the next forward's transaction of the same shard, or
        in the one that gives the shard's lease back (never later: see `_run_shard`). Until it is recorded
        the row stays `sending`; if the worker dies in between, the row is taken over as an unconfirmed send
        (`_recover`), like a death during the SMTP transaction itself: resent with the same Message-ID, or
        parked.
        """
        if self._unrecorded is None:
            return
        forward_id, reply, sent_at = self._unrecorded  # whatever happened to the row meanwhile, it went out
        _set_forward(session, forward_id, None, status=ForwardStatus.SENT.value, smtp_response=reply,
                     sent_at=sent_at)

    def _send_one(self, forward_id: int) -> bool:
        """Build, mark `sending`, hand over, record; False when the relay is gone for this run."""
        smtp = self._connection()
        if smtp is None:
            return False
        with session_scope(self.engine) as session:
            self._record_sent(session)
            ready = self._take(session, forward_id)
        self._unrecorded = None  # committed above; after an exception it stays, for run()'s own commit
        if ready is None:
            return True
        wire, message_id, recipient, invoice_id = ready
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
        self._unrecorded = (forward_id, reply, utcnow())
        self.counts["sent"] += 1
        log.info("bill_forwarded", forward_id=forward_id, invoice_id=invoice_id, message_id=message_id)
        return True

    def _take(self, session: Session, forward_id: int) -> tuple[bytes, str, str, int] | None:
        """Build the forward's message and move it from `pending` to `sending`; None when there is nothing to send.

        Returns (wire bytes, Message-ID, recipient, invoice id). A message that cannot be built parks the row.
        """
        found = session.exec(
            select(Forward, Invoice, Unit).join(Invoice, Invoice.id == Forward.invoice_id)  # type: ignore[arg-type]
            .join(Unit, Unit.id == Invoice.unit_id)  # type: ignore[arg-type]
            .where(Forward.id == forward_id, Forward.status == ForwardStatus.PENDING.value)).first()
        if found is None:  # sent or parked meanwhile, or its invoice is gone
            return None
        row, invoice, unit = found
        try:
            report = monthly_report(session=session, unit=unit, invoice=invoice) \
                if unit.forward_report and invoice.layout != "generic" else None
            message = compose(forward=row, invoice=invoice, unit=unit,
                              pdf=self.blobs.get(invoice.pdf_sha256), settings=self.settings, report_pdf=report)
            wire = to_wire(message, settings=self.settings, dkim_key=self.dkim_key)
        except (OSError, ValueError, dkim.DKIMException) as exc:  # a missing blob, a bad key
            row.status, row.updated_at = ForwardStatus.PARKED.value, utcnow()
            row.smtp_response = f"not sent: the message could not be built ({type(exc).__name__})"
            session.add(row)
            self.counts["parked"] += 1
            log.error("forward_not_built", forward_id=forward_id, error=type(exc).__name__)
            return None
        # Conditional, so that only one sender ever moves the row out of `pending`.
        if not _set_forward(session, forward_id, ForwardStatus.PENDING, status=ForwardStatus.SENDING.value,
                            attempts=Forward.attempts + 1):
            return None
        return wire, message["Message-ID"], row.recipient, row.invoice_id


def send_outbox(*, engine: Engine, settings: MailSettings, blobs: Blobs, owner: str,
                now: Callable[[], datetime] = utcnow, dkim_key: bytes | None = None) -> OutboxReport:
    """Send every due forward once, shard by shard under the outbox leases; never raises for SMTP trouble."""
    sender = OutboxSender(engine=engine, settings=settings, blobs=blobs, owner=owner, now=now, dkim_key=dkim_key)
    sender.run()
    return sender.report()
