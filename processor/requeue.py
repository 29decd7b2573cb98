"""Retry and reprocess: put finished messages back in the inbox so the next pass reads them afresh.

A settled message is found in its Processed/Quarantine folder by its Message-ID and moved back to the
inbox (it gets a new UID there, so the next pass claims it as a new message; its old ledger row stays as
history). A message still in the inbox that keeps failing gets its attempts reset. Parked forwards of
its bills go back to pending. Storage dedupes, so a bill already stored is never stored twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from imap_tools import AND, Header
from sqlmodel import select

from processor.fetch import open_mailbox
from processor.pipeline import Pipeline
from processor.settle import move
from processor.types import mailbox_lease
from storage.engine import session_scope
from storage.mail import acquire_lease, release_lease
from storage.mail_models import WAITING_STAGES, Forward, ForwardStatus, Invoice, MailMessage, MessageStage
from storage.models import utcnow

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RequeueResult:
    """What happened to one message: `moved_back`, `reset` (still in the inbox), `forwards_reset` or `not_found`."""

    mail_message_id: int
    action: str
    detail: str | None = None


def _reset_forwards(session, row_id: int) -> int:  # noqa: ANN001 - Session
    forwards = session.exec(select(Forward).join(Invoice, Invoice.id == Forward.invoice_id).where(
        Invoice.mail_message_id == row_id, Forward.status == ForwardStatus.PARKED.value)).all()
    for forward in forwards:
        forward.status, forward.attempts, forward.next_attempt_at = ForwardStatus.PENDING.value, 0, None
        forward.updated_at = utcnow()
        session.add(forward)
    return len(forwards)


def requeue(pipeline: Pipeline, *, message_ids: list[int]) -> list[RequeueResult]:
    """Retry each message (see the module docstring); returns one result per id."""
    results: list[RequeueResult] = []
    to_move: dict[str, list[MailMessage]] = {}
    with session_scope(pipeline.engine) as session:
        for row_id in message_ids:
            row = session.get(MailMessage, row_id)
            if row is None:
                results.append(RequeueResult(row_id, "not_found"))
                continue
            reset = _reset_forwards(session, row_id)
            if row.settled_at is None:
                row.attempts = 0 if row.stage == MessageStage.CLAIMED.value else row.attempts
                if row.stage in WAITING_STAGES:  # kept in the inbox: claimed again, the next pass reruns it
                    row.stage, row.attempts = MessageStage.CLAIMED.value, 0
                session.add(row)
                results.append(RequeueResult(row_id, "reset" if not reset else "forwards_reset"))
            elif row.settle_folder is None or row.message_id is None:
                results.append(RequeueResult(row_id, "not_found", "no folder or Message-ID to find it by"))
            else:
                to_move.setdefault(row.account, []).append(row)
    for account_name, rows in to_move.items():
        account = pipeline.settings.account(account_name)
        lease = mailbox_lease(account)  # the whole-inbox name: one requeue at a time per mailbox
        with session_scope(pipeline.engine) as session:
            if not acquire_lease(session=session, name=lease, owner=pipeline.owner,
                                 seconds=pipeline.settings.lease_seconds):
                results.extend(RequeueResult(r.id or 0, "not_found", "mailbox busy; try again") for r in rows)
                continue
        try:
            with open_mailbox(account) as box:
                for row in rows:
                    box.folder.set(row.settle_folder)
                    uids = box.uids(AND(header=[Header("Message-ID", row.message_id or "")]), charset=None)
                    if not uids:
                        results.append(RequeueResult(row.id or 0, "not_found", f"not in {row.settle_folder}"))
                        continue
                    move(box, [int(uids[0])], account.inbox)
                    with session_scope(pipeline.engine) as session:
                        fresh = session.get(MailMessage, row.id)
                        fresh.error = ((fresh.error + "; ") if fresh.error else "") + "moved back to the inbox to retry"
                        fresh.updated_at = utcnow()
                        session.add(fresh)
                    log.info("message_requeued", mail_message_id=row.id, folder=row.settle_folder)
                    results.append(RequeueResult(row.id or 0, "moved_back", row.settle_folder))
        finally:
            with session_scope(pipeline.engine) as session:
                release_lease(session=session, name=lease, owner=pipeline.owner)
    return results
