"""Sharing work between `faturas run` processes: worker heartbeats, adhesion claims and job runs.

On PostgreSQL any number of workers take adhesion jobs with `SELECT … FOR UPDATE SKIP LOCKED` and a
lease (owner + expiry) written in the same transaction, so two workers never enrol the same unit and a
dead worker's units are taken over once its lease expires. SQLite serialises writers and supports one
worker: `register_worker` refuses a second live one there.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select

from storage.adhesion import BOT_ACTIONABLE
from storage.errors import ConfigurationError
from storage.models import AdhesionStatus, JobRun, Unit, Worker, utcnow


def live_workers(*, session: Session, stale_after_s: float, now: datetime | None = None) -> list[Worker]:
    """Workers whose heartbeat is recent, oldest first."""
    moment = now or utcnow()
    query = select(Worker).where(col(Worker.heartbeat_at) >= moment - timedelta(seconds=stale_after_s))
    return list(session.exec(query.order_by(col(Worker.started_at))).all())


def register_worker(*, session: Session, owner: str, host: str, pid: int, stale_after_s: float,
                    single_writer: bool) -> None:
    """Record this worker; on a single-writer database (SQLite) refuse when another one is alive."""
    if single_writer:
        others = [w for w in live_workers(session=session, stale_after_s=stale_after_s) if w.owner != owner]
        if others:
            other = others[0]
            raise ConfigurationError(
                f"another faturas run is active on this SQLite database (pid {other.pid} on {other.host}, "
                f"heartbeat {other.heartbeat_at:%H:%M:%S}); SQLite supports one worker: stop it, or use "
                "PostgreSQL (FATURAS_DATABASE_URL) to run several")
    session.merge(Worker(owner=owner, host=host, pid=pid))


def heartbeat(*, session: Session, owner: str, stopping: bool = False) -> None:
    """Say this worker is alive (and whether it is shutting down)."""
    worker = session.get(Worker, owner)
    if worker is not None:
        worker.heartbeat_at = utcnow()
        worker.stopping = stopping
        session.add(worker)


def prune_dead_workers(*, session: Session, older_than_s: float, now: datetime | None = None) -> int:
    """Forget workers silent for `older_than_s` (killed, never unregistered); how many were removed.

    A worker that just died stays listed (`faturas status` shows it as dead) until then. Its leases need
    no cleanup here: a lease whose owner has no live heartbeat is taken over anyway.
    """
    cutoff = (now or utcnow()) - timedelta(seconds=older_than_s)
    dead = list(session.exec(select(Worker).where(col(Worker.heartbeat_at) < cutoff)).all())
    for worker in dead:
        session.delete(worker)
    return len(dead)


def unregister_worker(*, session: Session, owner: str) -> None:
    """Remove this worker and give back every adhesion lease it holds."""
    worker = session.get(Worker, owner)
    if worker is not None:
        session.delete(worker)
    for unit in session.exec(select(Unit).where(Unit.adhesion_lease_owner == owner)).all():
        unit.adhesion_lease_owner = None
        unit.adhesion_lease_until = None
        session.add(unit)


def claim_adhesions(*, session: Session, owner: str, limit: int, lease_s: float, stale_after_s: float,
                    now: datetime | None = None) -> list[int]:
    """Take up to `limit` units due for the bot, leased to `owner`; other workers skip them.

    A unit is due when its state is the bot's, its next-try time has come, and nobody holds a live
    lease on it. A lease is dead when it has expired or when its worker stopped beating (killed):
    such units are taken over.
    """
    moment = now or utcnow()
    alive = select(Worker.owner).where(col(Worker.heartbeat_at) >= moment - timedelta(seconds=stale_after_s))
    query = (select(Unit)
             .where(col(Unit.adhesion_status).in_([s.value for s in BOT_ACTIONABLE]))
             .where(or_(col(Unit.adhesion_next_at).is_(None), col(Unit.adhesion_next_at) <= moment))
             .where(or_(col(Unit.adhesion_lease_owner).is_(None), col(Unit.adhesion_lease_until) < moment,
                        Unit.adhesion_lease_owner == owner, col(Unit.adhesion_lease_owner).not_in(alive)))
             .order_by(col(Unit.id)).limit(limit)
             .with_for_update(skip_locked=True))
    units = list(session.exec(query).all())
    for unit in units:
        unit.adhesion_lease_owner = owner
        unit.adhesion_lease_until = moment + timedelta(seconds=lease_s)
        session.add(unit)
    return [u.id for u in units if u.id is not None]


def release_adhesion(*, session: Session, unit_id: int, owner: str, status: AdhesionStatus,
                     retry_after: list[float], now: datetime | None = None) -> None:
    """Drop the lease and plan the next try: transient failures follow `retry_after` (seconds), then stop."""
    unit = session.get(Unit, unit_id)
    if unit is None or unit.adhesion_lease_owner not in (owner, None):
        return
    unit.adhesion_lease_owner = None
    unit.adhesion_lease_until = None
    if status == AdhesionStatus.PORTAL_UNAVAILABLE:
        failures = unit.adhesion_failures
        unit.adhesion_failures = failures + 1
        if failures < len(retry_after):
            unit.adhesion_next_at = (now or utcnow()) + timedelta(seconds=retry_after[failures])
        else:
            # The schedule is exhausted: a person must look (the message says so).
            unit.adhesion_next_at = None
            unit.adhesion_status = AdhesionStatus.PORTAL_CHANGED.value
            unit.adhesion_message = (f"the portal stayed unavailable through {len(retry_after)} retries; "
                                     "check the portal, then run `faturas adhere` for this unit")
    else:
        unit.adhesion_failures = 0
        unit.adhesion_next_at = None
    session.add(unit)


def record_job_run(*, session: Session, job: str, owner: str, started_at: datetime, summary: dict,
                   error: str | None, next_run_at: datetime | None) -> None:
    """Keep the last run of a job for `faturas status`."""
    session.merge(JobRun(job=job, owner=owner, started_at=started_at, finished_at=utcnow(), summary=summary,
                         error=error, next_run_at=next_run_at))


def job_runs(*, session: Session) -> list[JobRun]:
    """The last run of every job."""
    return list(session.exec(select(JobRun).order_by(col(JobRun.job))).all())
