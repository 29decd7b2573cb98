"""Trust a sender for a utility and send its held `dkim_failed` messages back to be processed.

After `trust`, the pipeline accepts the domain's signatures (storage.senders); the messages it signed that
wait in Quarantine are moved back to the inbox by processor.requeue, so the next pass reads them as new
messages, stores and forwards their bills. Each held row is marked `released_at` in the same step, so a
second trust (or two operators at once) never releases a message twice; those messages were never
stored nor forwarded (dkim_failed stops before reading the PDF), and storage dedupes anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import update
from sqlmodel import col

from processor.pipeline import Pipeline
from processor.requeue import RequeueResult, requeue
from storage.engine import session_scope
from storage.mail_models import MailMessage
from storage.models import utcnow
from storage.senders import held_signed_by, normalise_domain, trust, untrust

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TrustOutcome:
    """What trusting did: whether the domain was new, and each held message's requeue result."""

    utility: str
    domain: str
    new: bool
    results: tuple[RequeueResult, ...]

    @property
    def released(self) -> int:
        """Held messages moved back to the inbox."""
        return sum(1 for r in self.results if r.action == "moved_back")


def trust_sender(pipeline: Pipeline, *, utility: str, domain: str, by: str | None = None) -> TrustOutcome:
    """Trust `domain` for `utility`, then move the messages it signed from Quarantine back to the inbox."""
    value = normalise_domain(domain)
    with session_scope(pipeline.engine) as session:
        new = trust(session=session, utility=utility, domain=value, by=by)
        held = [m.id for m in held_signed_by(session=session, utility=utility, domain=value) if m.id is not None]
        # Claim each row before moving anything: a concurrent trust finds it released and moves nothing.
        ids = [row_id for row_id in held if session.execute(
            update(MailMessage).where(col(MailMessage.id) == row_id, col(MailMessage.released_at).is_(None))
            .values(released_at=utcnow()).execution_options(synchronize_session=False)).rowcount == 1]
    results = tuple(requeue(pipeline, message_ids=ids)) if ids else ()
    failed = [r.mail_message_id for r in results if r.action == "not_found"]
    if failed:  # not moved (mailbox busy, message gone): held again, for the next trust or `mail retry`
        with session_scope(pipeline.engine) as session:
            session.execute(update(MailMessage).where(col(MailMessage.id).in_(failed)).values(released_at=None)
                            .execution_options(synchronize_session=False))
    log.info("sender_trusted", utility=utility, domain=value, new=new, held=len(ids),
             released=sum(1 for r in results if r.action == "moved_back"), failed=len(failed))
    return TrustOutcome(utility=utility, domain=value, new=new, results=results)


def untrust_sender(pipeline: Pipeline, *, utility: str, domain: str) -> bool:
    """Stop trusting `domain` for `utility` (messages already processed stay as they are)."""
    with session_scope(pipeline.engine) as session:
        removed = untrust(session=session, utility=utility, domain=domain)
    log.info("sender_untrusted", utility=utility, domain=normalise_domain(domain), removed=removed)
    return removed
