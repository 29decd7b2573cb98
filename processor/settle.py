r"""Settle: MOVE a finished message to Processed or Quarantine — only after its bills and forwards are durable.

Never a delete, never a folder-wide EXPUNGE: UID MOVE when the server has it (capabilities are re-read
after login); otherwise UID COPY then, with UIDPLUS, UID STORE \Deleted + UID EXPUNGE of that UID only;
without UIDPLUS the original stays, flagged `$FaturasSettled`. A message found gone from the inbox was
moved by a run that crashed before recording it, and is recorded as settled.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from imap_tools import BaseMailBox
from imap_tools.imap_utf7 import utf7_encode
from sqlalchemy import Engine
from sqlmodel import select

from processor.config import MailAccount
from processor.errors import MailboxUnavailable
from processor.types import Mailbox, Shard
from storage.engine import session_scope
from storage.mail import unsettled, waiting_for_forwards
from storage.mail_models import STORED_STAGES, MailMessage, MessageStage
from storage.models import utcnow

log = structlog.get_logger(__name__)
SETTLED_KEYWORD = "$FaturasSettled"


def destination(stage: str, account: MailAccount) -> str:
    """Processed for bills stored with every check passed (or already stored); Quarantine for the rest."""
    ok = stage in {s.value for s in STORED_STAGES} and stage not in {MessageStage.NEEDS_REVIEW.value,
                                                                     MessageStage.PAYEE_MISMATCH.value}
    return account.processed if ok else account.quarantine


def _quoted(folder: str) -> bytes:
    return b'"' + utf7_encode(folder).replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def _check(result: tuple, what: str) -> None:
    if result[0] != "OK":
        raise MailboxUnavailable(f"IMAP {what} failed: {result[1]!r}"[:300])


def move(box: BaseMailBox, uids: list[int], folder: str) -> None:
    """Move these UIDs of the selected folder to `folder` without touching any other message."""
    if not uids:
        return
    capabilities = set(box.client.capabilities)
    for start in range(0, len(uids), 200):
        chunk = ",".join(str(u) for u in uids[start:start + 200])
        if "MOVE" in capabilities:
            _check(box.client.uid("MOVE", chunk, _quoted(folder)), "UID MOVE")
            continue
        _check(box.client.uid("COPY", chunk, _quoted(folder)), "UID COPY")
        if "UIDPLUS" in capabilities:
            _check(box.client.uid("STORE", chunk, "+FLAGS.SILENT", r"(\Deleted)"), "UID STORE")
            _check(box.client.uid("EXPUNGE", chunk), "UID EXPUNGE")
        else:
            _check(box.client.uid("STORE", chunk, "+FLAGS.SILENT", f"({SETTLED_KEYWORD})"), "UID STORE")


def settle(*, box: BaseMailBox, engine: Engine, account: MailAccount, mailbox: Mailbox,
           present: Iterable[int], shard: Shard | None = None) -> dict[str, int]:
    """Move every finished message (of `shard`, when given) whose forwards are final; counts per folder.

    `present` holds the UIDs of the inbox (of the shard) listed this pass: a finished message not in it
    was moved by an earlier run that crashed before recording it.
    """
    present_set = set(present)
    plan: dict[str, list[int]] = {}
    gone: list[int] = []
    with session_scope(engine) as session:
        finished = [m for m in unsettled(session=session, account=mailbox.account, folder=mailbox.folder,
                                         uidvalidity=mailbox.uidvalidity) if shard is None or shard.owns(m.uid)]
        waiting: set[int] = set()
        for start in range(0, len(finished), 500):
            waiting |= waiting_for_forwards(session=session,
                                            mail_message_ids=[m.id or 0 for m in finished[start:start + 500]])
        for message in finished:
            if message.id in waiting:
                continue
            if message.uid not in present_set:
                gone.append(message.id or 0)
                continue
            plan.setdefault(destination(message.stage, account), []).append(message.uid)
    moved: dict[str, int] = {}
    for folder, uids in plan.items():
        move(box, uids, folder)
        with session_scope(engine) as session:
            now = utcnow()
            rows = session.exec(select(MailMessage).where(
                MailMessage.account == mailbox.account, MailMessage.folder == mailbox.folder,
                MailMessage.uidvalidity == mailbox.uidvalidity, MailMessage.uid.in_(uids)))  # type: ignore[attr-defined]
            for row in rows:
                row.settle_folder, row.settled_at, row.updated_at = folder, now, now
                session.add(row)
        moved[folder] = len(uids)
        log.info("messages_settled", account=account.name, folder=folder, count=len(uids))
    if gone:
        with session_scope(engine) as session:
            now = utcnow()
            for row_id in gone:
                row = session.get(MailMessage, row_id)
                if row is not None:
                    row.settle_folder = destination(row.stage, account)
                    row.settled_at = row.updated_at = now
                    session.add(row)
        log.warning("messages_gone_from_inbox", account=account.name, count=len(gone))
    return moved
