"""What `faturas status` reports: units per state and who acts, mailbox lag, outbox, jobs and live workers."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, func, select

from processor.config import MailSettings
from processor.oauth import auth_state
from storage.mail import forward_counts, oldest_waiting, stage_counts
from storage.models import NEXT_ACTOR, AdhesionStatus, Unit, utcnow
from storage.work import job_runs, live_workers


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC datetimes."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    aware = _aware(moment)
    return aware.isoformat(timespec="seconds") if aware else None


def mailbox_auth(mail: MailSettings) -> list[dict]:
    """Each mailbox and the relay with its authentication and state.

    `ok`, `mailbox_auth_expired` (the operator runs `faturas mail accounts authorize NAME`) or `unreadable`
    (the key ring cannot open the token file).
    """
    rows = [{"account": a.name, "kind": "imap", "auth": a.auth,
             "state": auth_state(a.oauth) if a.oauth is not None and a.auth == "xoauth2" else "ok"}
            for a in mail.accounts]
    if mail.smtp is not None:
        relay = mail.smtp
        rows.append({"account": "smtp", "kind": "smtp", "auth": relay.auth,
                     "state": auth_state(relay.oauth) if relay.oauth is not None and relay.auth == "xoauth2"
                     else "ok"})
    for row in rows:
        row["who_acts"] = "operator" if row["state"] != "ok" else None
    return rows


def mailbox_problems(mail: MailSettings) -> list[dict]:
    """The rows of `mailbox_auth` that need the operator (what the dashboard shows)."""
    return [row for row in mailbox_auth(mail) if row["state"] != "ok"]


def collect_status(*, session: Session, stale_after_s: float, mail: MailSettings | None = None) -> dict:
    """Everything `faturas status` shows, as plain JSON-ready data (with `mail`: each mailbox's auth state)."""
    now = utcnow()
    per_state = {state: count for state, count in
                 session.exec(select(Unit.adhesion_status, func.count()).group_by(Unit.adhesion_status)).all()}
    by_actor: dict[str, int] = {}
    for state, count in per_state.items():
        actor = NEXT_ACTOR.get(AdhesionStatus(state), "?") if state in AdhesionStatus._value2member_map_ else "?"
        by_actor[actor] = by_actor.get(actor, 0) + count
    oldest = oldest_waiting(session=session)
    lag = None
    if oldest is not None:
        created = _aware(oldest.created_at)
        lag = {"message": oldest.id, "stage": oldest.stage, "since": _iso(created),
               "seconds": int((now - created).total_seconds()) if created else None}
    return {
        "units": {"by_state": per_state, "by_next_actor": by_actor, "total": sum(per_state.values())},
        "mail": {"by_stage": stage_counts(session=session), "oldest_unsettled": lag},
        "outbox": forward_counts(session=session),
        "jobs": [{"job": run.job, "worker": run.owner, "last_started": _iso(run.started_at),
                  "last_finished": _iso(run.finished_at), "next_run": _iso(run.next_run_at),
                  "summary": run.summary, "error": run.error} for run in job_runs(session=session)],
        "workers": [{"worker": w.owner, "host": w.host, "pid": w.pid, "started": _iso(w.started_at),
                     "heartbeat": _iso(w.heartbeat_at), "stopping": w.stopping}
                    for w in live_workers(session=session, stale_after_s=stale_after_s)],
        "mailboxes": mailbox_auth(mail) if mail is not None else [],
    }
