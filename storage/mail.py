"""The mail ledger, leases and the outbox: keyword-only functions over a session the caller owns.

Leases are rows updated with a conditional UPDATE, so two workers (or two runs) never hold the same
mailbox: the update only succeeds when the lease is free, expired, ours, or held by a process of this
host that no longer exists (a SIGKILLed run is taken over at once instead of after the expiry).
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, true, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.engine import savepoint
from storage.mail_models import (
    FINAL_FORWARD_STATES,
    WAITING_STAGES,
    Forward,
    ForwardStatus,
    Invoice,
    MailLease,
    MailMessage,
    MessageStage,
)
from storage.models import utcnow

HOST = socket.gethostname()


def new_owner() -> str:
    """A lease owner id for this process: host, pid and a random token."""
    return f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _dead_local_owner(owner: str | None) -> bool:
    """Whether `owner` is a process of this host that is gone (its lease can be taken at once)."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire_lease(*, session: Session, name: str, owner: str, seconds: float, now: datetime | None = None) -> bool:
    """Take or renew the lease `name` for `seconds`; False when another live worker holds it."""
    now = now or utcnow()
    expires = now + timedelta(seconds=seconds)
    if session.get(MailLease, name) is None:
        try:
            with savepoint(session):
                session.add(MailLease(name=name, owner=None, expires_at=None))
        except IntegrityError:
            pass
    current = session.get(MailLease, name, populate_existing=True)
    holder = current.owner if current is not None else None
    condition = or_(MailLease.owner.is_(None), MailLease.owner == owner,  # type: ignore[union-attr]
                    MailLease.expires_at < now)  # type: ignore[operator]
    if holder is not None and _dead_local_owner(holder):
        condition = or_(condition, MailLease.owner == holder)
    # synchronize_session=False: the session must not evaluate the criteria in Python (SQLite hands back
    # naive datetimes, which cannot be compared with our aware ones); the SQL decides.
    result = session.execute(update(MailLease).where(MailLease.name == name, condition)
                             .values(owner=owner, expires_at=expires)
                             .execution_options(synchronize_session=False))
    session.expire_all()
    return result.rowcount == 1  # type: ignore[attr-defined]


def release_lease(*, session: Session, name: str, owner: str) -> None:
    """Give the lease back (only if we hold it)."""
    session.execute(update(MailLease).where(MailLease.name == name, MailLease.owner == owner)
                    .values(owner=None, expires_at=None).execution_options(synchronize_session=False))


def live_leases(*, session: Session, prefix: str) -> dict[str, str]:
    """Leases named `prefix…` held by a live worker (unexpired, not a dead local process): name → owner."""
    query = select(MailLease).where(MailLease.name.startswith(prefix),  # type: ignore[attr-defined]
                                    MailLease.owner.is_not(None),  # type: ignore[union-attr]
                                    MailLease.expires_at >= utcnow())  # type: ignore[operator]
    return {row.name: row.owner for row in session.exec(query) if row.owner and not _dead_local_owner(row.owner)}


def known_uids(*, session: Session, account: str, folder: str, uidvalidity: int) -> set[int]:
    """UIDs already claimed in this mailbox at this UIDVALIDITY."""
    query = select(MailMessage.uid).where(MailMessage.account == account, MailMessage.folder == folder,
                                          MailMessage.uidvalidity == uidvalidity)
    return set(session.exec(query).all())


def unfinished(*, session: Session, account: str, folder: str, uidvalidity: int) -> list[MailMessage]:
    """Claimed messages whose processing never finished (a crash, or an error retried next pass)."""
    query = select(MailMessage).where(MailMessage.account == account, MailMessage.folder == folder,
                                      MailMessage.uidvalidity == uidvalidity,
                                      MailMessage.stage == MessageStage.CLAIMED.value)
    return list(session.exec(query.order_by(MailMessage.uid)).all())  # type: ignore[arg-type]


def _unsettled(account: str, folder: str) -> list:
    """The conditions of a message of `folder` with an outcome, still in that folder."""
    return [MailMessage.account == account, MailMessage.folder == folder,
            MailMessage.stage != MessageStage.CLAIMED.value,
            MailMessage.stage.not_in([s.value for s in WAITING_STAGES]),  # type: ignore[attr-defined]
            MailMessage.settled_at.is_(None)]  # type: ignore[union-attr]


def _forward_not_final():  # noqa: ANN202 - a SQLAlchemy condition
    return Forward.status.not_in([s.value for s in FINAL_FORWARD_STATES])  # type: ignore[attr-defined]


def unsettled(*, session: Session, account: str, folder: str, uidvalidity: int) -> list[MailMessage]:
    """Messages with an outcome that are still in the inbox folder."""
    query = select(MailMessage).where(*_unsettled(account, folder), MailMessage.uidvalidity == uidvalidity)
    return list(session.exec(query.order_by(MailMessage.uid)).all())  # type: ignore[arg-type]


def waiting_for_forwards(*, session: Session, mail_message_ids: list[int]) -> set[int]:
    """Which of these messages still have a forward that is neither sent nor parked (one query)."""
    if not mail_message_ids:
        return set()
    query = (select(Invoice.mail_message_id).join(Forward, Forward.invoice_id == Invoice.id)
             .where(Invoice.mail_message_id.in_(mail_message_ids), _forward_not_final())  # type: ignore[union-attr]
             .distinct())
    return {row for row in session.exec(query) if row is not None}


def shards_ready_to_settle(*, session: Session, account: str, folder: str, shard_count: int) -> set[int]:
    """Shards (UID modulo `shard_count`) of `folder` with a finished, unsettled message no forward holds back.

    One query: what a shard's own pass left waiting because another worker was still sending its forward.
    """
    held_back = (select(Invoice.id).join(Forward, Forward.invoice_id == Invoice.id)
                 .where(Invoice.mail_message_id == MailMessage.id, _forward_not_final()))
    query = select(MailMessage.uid % shard_count).where(*_unsettled(account, folder), ~held_back.exists())
    return {int(index) for index in session.exec(query.distinct())}


def previous_outcome(*, session: Session, account: str, message_id: str, exclude_id: int) -> MailMessage | None:
    """An earlier finished message of this account with the same Message-ID (a UIDVALIDITY change, a resend)."""
    query = select(MailMessage).where(MailMessage.account == account, MailMessage.message_id == message_id,
                                      MailMessage.id != exclude_id,
                                      MailMessage.stage != MessageStage.CLAIMED.value)
    return session.exec(query.order_by(MailMessage.id)).first()  # type: ignore[arg-type]


def find_message(*, session: Session, ref: str) -> MailMessage | None:
    """A message by ledger id or by Message-ID header."""
    text = ref.strip()
    if text.isdigit():
        return session.get(MailMessage, int(text))
    return session.exec(select(MailMessage).where(MailMessage.message_id == text)).first()


def stage_counts(*, session: Session) -> dict[str, int]:
    """Messages per stage."""
    rows = session.exec(select(MailMessage.stage, func.count()).group_by(MailMessage.stage)).all()
    return {stage: count for stage, count in rows}


def oldest_waiting(*, session: Session) -> MailMessage | None:
    """The oldest message not yet settled (still being worked on, or waiting for its forwards)."""
    query = select(MailMessage).where(MailMessage.settled_at.is_(None))  # type: ignore[union-attr]
    return session.exec(query.order_by(MailMessage.created_at)).first()  # type: ignore[arg-type]


def forward_counts(*, session: Session) -> dict[str, int]:
    """Outbox rows per status."""
    rows = session.exec(select(Forward.status, func.count()).group_by(Forward.status)).all()
    return {status: count for status, count in rows}


def _in_shard(index: int, count: int):  # noqa: ANN202 - a SQL expression
    """Forwards of one outbox shard (`id % count == index`); every forward when there is one shard."""
    return Forward.id % count == index if count > 1 else true()  # type: ignore[operator]


def due_forwards(*, session: Session, now: datetime, limit: int, shard_index: int = 0,
                 shard_count: int = 1) -> list[Forward]:
    """Pending forwards of one outbox shard whose next attempt is due, oldest first."""
    query = select(Forward).where(Forward.status == ForwardStatus.PENDING.value, _in_shard(shard_index, shard_count),
                                  or_(Forward.next_attempt_at.is_(None),  # type: ignore[union-attr]
                                      Forward.next_attempt_at <= now))  # type: ignore[operator]
    return list(session.exec(query.order_by(Forward.id).limit(limit)).all())  # type: ignore[arg-type]


def outbox_shard_has_work(*, session: Session, now: datetime, shard_index: int = 0, shard_count: int = 1) -> bool:
    """Whether one outbox shard has a forward due or left in `sending` (one read, no lock, no write)."""
    due = or_(Forward.status == ForwardStatus.SENDING.value,
              and_(Forward.status == ForwardStatus.PENDING.value,
                   or_(Forward.next_attempt_at.is_(None), Forward.next_attempt_at <= now)))  # type: ignore[union-attr,operator]
    return session.exec(select(Forward.id).where(due, _in_shard(shard_index, shard_count)).limit(1)).first() is not None


def interrupted_forwards(*, session: Session, shard_index: int = 0, shard_count: int = 1) -> list[Forward]:
    """Forwards of one outbox shard left in `sending`: a worker died between marking and recording the outcome."""
    return list(session.exec(select(Forward).where(Forward.status == ForwardStatus.SENDING.value,
                                                   _in_shard(shard_index, shard_count))).all())


def messages_in_stage(*, session: Session, stage: str) -> list[MailMessage]:
    """Every message with this outcome."""
    query = select(MailMessage).where(MailMessage.stage == stage)
    return list(session.exec(query.order_by(MailMessage.id)).all())  # type: ignore[arg-type]
