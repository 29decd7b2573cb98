"""`faturas run`: the unattended service. APScheduler (3.x) triggers the jobs; the database shares the work.

Jobs (fixed ids, `max_instances=1`, `coalesce=True`, a misfire grace time): `mail_poll` (every mailbox,
then the outbox), `adhesion_queue` (units due for the bot, claimed with SKIP LOCKED), `outbox` (due
forwards and retries), `watchdog` (missing bills), `retention` (old screenshots and traces) and
`heartbeat`. Each job binds its own log context (contextvars do not cross into the scheduler's
threads) and writes one summary line per run.

SIGTERM or SIGINT sets a stop flag: jobs finish the item in hand and take no new one, the scheduler
waits for them (bounded by `shutdown_timeout_s`), leases are released and the process exits 0.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import socket
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from apscheduler.schedulers.background import BackgroundScheduler

from bot.adhesion import AdhesionOptions, adhere_units
from bot.discovery import MESSAGES, DiscoveryStatus, discover_login
from config.context import AppContext
from config.wiring import blob_store, build_pipeline
from flows.browser import BrowserSettings
from processor.authenticate import DnsTxtLookup
from processor.isolate import warm_reader
from processor.outbox import send_outbox
from processor.pipeline import poll_once
from service.digest import send_digests, thresholds
from service.idle import IdleWatcher
from service.watchdog import check_overdue
from storage.adhesion import prune_artifacts
from storage.credentials import credentials_due_for_erasure, erase_login_credentials
from storage.discovery import claim_discovery, finish_discovery
from storage.engine import session_scope
from storage.mail import new_owner
from storage.work import (
    claim_adhesions,
    heartbeat,
    prune_dead_workers,
    record_job_run,
    register_worker,
    release_adhesion,
    unregister_worker,
)

log = structlog.get_logger(__name__)
HEARTBEAT_S = 10.0
STALE_AFTER_S = 45.0
# A dead worker stays listed by `faturas status` for a day, then the heartbeat job forgets it.
FORGET_DEAD_AFTER_S = 86400.0


@dataclass
class Service:
    """One worker process: its scheduler, its identity and its stop flag."""

    app: AppContext
    owner: str = field(default_factory=new_owner)
    stop: threading.Event = field(default_factory=threading.Event)
    dns_txt: DnsTxtLookup | None = None
    """DKIM key lookup for incoming bills; None is DNS (the sandbox passes its simulator's key)."""

    def __post_init__(self) -> None:
        # Each job that takes a lease has its own owner id: two jobs of one process must not both
        # believe they hold the same lease (the outbox lease, taken by mail_poll and outbox alike).
        self.pipeline = dataclasses.replace(build_pipeline(self.app), owner=new_owner(),
                                            should_stop=self.stop.is_set, dns_txt=self.dns_txt)
        self.outbox_owner = new_owner()
        self.scheduler = BackgroundScheduler(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 120})
        self._finished = threading.Event()
        # Held by a mail pass, which sends its own forwards after each shard: the outbox job then skips
        # its run instead of sending beside it in a second thread (two CPU-bound threads under the GIL
        # took more CPU for the same work and were slower, measured in bench/results/service_workers.md).
        self._mail_pass = threading.Lock()
        self._intervals: dict[str, float] = {}

    # -- jobs --------------------------------------------------------------------------------------------

    def _job(self, name: str, work: Callable[[], dict]) -> Callable[[], None]:
        def run() -> None:
            if self.stop.is_set():
                return
            started = datetime.now(UTC)
            run_id = uuid.uuid4().hex[:12]
            summary: dict = {}
            error = None
            with structlog.contextvars.bound_contextvars(job=name, run_id=run_id, worker=self.owner):
                try:
                    summary = work()
                except Exception as exc:  # noqa: BLE001 - one failed run must not stop the scheduler
                    error = f"{type(exc).__name__}: {exc}"[:1000]
                    log.exception("job_failed")
                # Not scheduler.get_job(): it takes the job-store lock that shutdown() holds while it
                # waits for this very job, a deadlock. The interval is known.
                next_run = started + timedelta(seconds=self._intervals.get(name, 0))
                with session_scope(self.app.engine) as session:
                    record_job_run(session=session, job=name, owner=self.owner, started_at=started,
                                   summary=summary, error=error, next_run_at=next_run)
                log.info("job_finished", seconds=round((datetime.now(UTC) - started).total_seconds(), 2),
                         error=error, **summary)
        return run

    def mail_poll(self) -> dict:
        """Every mailbox, then the outbox."""
        with self._mail_pass:
            report = poll_once(self.pipeline)
        return {"outcomes": report.outcomes, "forwarded": report.forwarded,
                "busy": [a.account for a in report.accounts if a.busy]}

    def outbox(self) -> dict:
        """Due forwards and retries, unless a mail pass of this process is running (it sends them)."""
        if not self._mail_pass.acquire(blocking=False):
            return {"skipped": "mail pass running"}
        try:
            report = send_outbox(engine=self.app.engine, settings=self.app.settings.mail, blobs=self.pipeline.blobs,
                                 owner=self.outbox_owner, dkim_key=self.pipeline.dkim_key)
        finally:
            self._mail_pass.release()
        return {"sent": report.sent, "retried": report.retried, "parked": report.parked}

    def adhesion_queue(self) -> dict:
        """Claim units due for the bot, enrol them, plan retries; until none is due or we are stopping."""
        settings = self.app.settings
        browser = BrowserSettings.load(settings.playwright_config)
        counts: dict[str, int] = {}
        while not self.stop.is_set():
            with session_scope(self.app.engine) as session:
                ids = claim_adhesions(session=session, owner=self.owner, limit=settings.adhesion_batch,
                                      lease_s=max(600.0, 120.0 * settings.adhesion_batch),
                                      stale_after_s=STALE_AFTER_S)
            if not ids:
                break
            options = AdhesionOptions(concurrency=min(settings.adhesion_batch, browser.concurrency),
                                      attempts=1, backoff_s=settings.adhesion_backoff_s)
            outcomes = asyncio.run(adhere_units(self.app, ids, options, should_stop=self.stop.is_set))
            with session_scope(self.app.engine) as session:
                for outcome in outcomes:
                    release_adhesion(session=session, unit_id=outcome.unit_id, owner=self.owner,
                                     status=outcome.status, retry_after=list(settings.adhesion_retry_schedule))
                    counts[outcome.status.value] = counts.get(outcome.status.value, 0) + 1
        return {"units": counts}

    def webhooks(self) -> dict:
        """Queue and send the integrators' webhooks (invoice.received, adhesion.changed, alert.raised)."""
        from service.webhooks import run_webhooks

        settings = self.app.settings
        report = run_webhooks(engine=self.app.engine, keys=self.app.keys(),
                              max_attempts=settings.webhook_max_attempts, backoff_s=settings.webhook_backoff_s,
                              alert_limits=thresholds(settings))
        return {"queued": report.queued, "delivered": report.delivered, "retried": report.retried,
                "failed": report.failed}

    def digest(self) -> dict:
        """Today's alert digests, once a day per integrator (when report.digest is on)."""
        if not self.app.settings.report_digest:
            return {"enabled": False}
        report = send_digests(self.app, today=datetime.now(UTC).date())
        return {"sent": report.sent, "skipped": report.skipped, "failed": report.failed}

    def watchdog(self) -> dict:
        """Verified units whose next bill is late."""
        with session_scope(self.app.engine) as session:
            flagged = check_overdue(session=session, today=datetime.now(UTC).date(),
                                    overdue_days=self.app.settings.bill_overdue_days)
        return {"bill_overdue": len(flagged)}

    def retention(self) -> dict:
        """Screenshots and traces past their retention period."""
        with session_scope(self.app.engine) as session:
            removed = prune_artifacts(session=session, blobs=blob_store(self.app))
        return {"artifacts_removed": removed}

    def discovery_queue(self) -> dict:
        """Run the discoveries queued by "Buscar instalações deste login", one login at a time."""
        counts: dict[str, int] = {}
        while not self.stop.is_set():
            with session_scope(self.app.engine) as session:
                login_id = claim_discovery(session=session)
            if login_id is None:
                break
            options = AdhesionOptions(concurrency=1, attempts=1, backoff_s=self.app.settings.adhesion_backoff_s)
            try:
                outcome = asyncio.run(discover_login(self.app, login_id, options))
                status, message = outcome.status, outcome.message
            except Exception:  # noqa: BLE001 - the login must not stay `running`; the job log has the trace
                log.exception("discovery_crashed", portal_login_id=login_id)
                status, message = DiscoveryStatus.PORTAL_CHANGED, MESSAGES[DiscoveryStatus.PORTAL_CHANGED]
            with session_scope(self.app.engine) as session:
                finish_discovery(session=session, login_id=login_id, status=status, message=message)
            counts[status] = counts.get(status, 0) + 1
        return {"logins": counts} if counts else {}

    def credential_erasure(self) -> dict:
        """Erase the credentials of logins whose units have all been enrolled for the configured days (LGPD)."""
        with session_scope(self.app.engine) as session:
            due = credentials_due_for_erasure(session=session,
                                              after_days=self.app.settings.logins_erase_credentials_after_days)
        for login_id in due:
            if self.stop.is_set():
                break
            erase_login_credentials(engine=self.app.engine, login_id=login_id, reason="schedule")
        return {"logins_erased": len(due)} if due else {}

    def beat(self) -> dict:
        """The worker's heartbeat."""
        with session_scope(self.app.engine) as session:
            heartbeat(session=session, owner=self.owner, stopping=self.stop.is_set())
            forgotten = prune_dead_workers(session=session, older_than_s=FORGET_DEAD_AFTER_S)
        return {"dead_workers_forgotten": forgotten} if forgotten else {}

    # -- life cycle --------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the PDF reader, register the worker (refused on SQLite when another one runs), schedule the jobs."""
        limit_mb = self.app.settings.mail.pdf_memory_limit_mb
        if limit_mb:  # the reader's start-up is paid here, not by the first bill of the first pass
            warm_reader(limit_mb * 2**20)
        single_writer = self.app.engine.dialect.name == "sqlite"
        with session_scope(self.app.engine) as session:
            register_worker(session=session, owner=self.owner, host=socket.gethostname(), pid=os.getpid(),
                            stale_after_s=STALE_AFTER_S, single_writer=single_writer)
        settings = self.app.settings
        soon = datetime.now(UTC) + timedelta(seconds=1)
        jobs: tuple[tuple[str, Callable[[], dict], float], ...] = (
            ("heartbeat", self.beat, HEARTBEAT_S),
            ("mail_poll", self.mail_poll, settings.mail_poll_interval_s),
            ("adhesion_queue", self.adhesion_queue, settings.adhesion_interval_s),
            ("discovery_queue", self.discovery_queue, settings.adhesion_interval_s),
            ("outbox", self.outbox, settings.outbox_interval_s),
            ("webhooks", self.webhooks, 30.0),
            ("watchdog", self.watchdog, 3600.0),
            ("digest", self.digest, 3600.0),
            ("retention", self.retention, 86400.0),
            ("credential_erasure", self.credential_erasure, 3600.0),
        )
        self._intervals = {name: seconds for name, _, seconds in jobs}
        for name, work, seconds in jobs:
            self.scheduler.add_job(self._job(name, work), "interval", seconds=seconds, id=name, name=name,
                                   next_run_time=soon, replace_existing=True)
        self.scheduler.start()
        if settings.mail_idle:
            for account in settings.mail.accounts:
                IdleWatcher(account, self.poll_now, self.stop).start()
        log.info("service_started", worker=self.owner, database=self.app.engine.dialect.name,
                 jobs=[name for name, _, _ in jobs])

    def poll_now(self) -> None:
        """Run `mail_poll` at once (IMAP IDLE saw new mail); coalesced with a run already going."""
        if not self.stop.is_set():
            self.scheduler.modify_job("mail_poll", next_run_time=datetime.now(UTC))

    def adhere_now(self) -> None:
        """Run `adhesion_queue` at once (a unit was queued from the dashboard); coalesced like `poll_now`."""
        if not self.stop.is_set():
            self.scheduler.modify_job("adhesion_queue", next_run_time=datetime.now(UTC))

    def request_stop(self, *_args: object) -> None:
        """Signal handler: finish the item in hand, take no new work."""
        if not self.stop.is_set():
            log.info("service_stopping")
        self.stop.set()

    def wait(self) -> bool:
        """Block until a stop is requested, then shut down within the bound."""
        self.stop.wait()
        return self.shutdown()

    def shutdown(self) -> bool:
        """Stop the scheduler (waiting for running jobs, bounded), release leases, unregister.

        Returns whether every job finished in time.
        """
        self.stop.set()
        done = threading.Event()

        def wait_for_jobs() -> None:
            self.scheduler.shutdown(wait=True)
            done.set()

        threading.Thread(target=wait_for_jobs, daemon=True).start()
        finished = done.wait(self.app.settings.shutdown_timeout_s)
        if not finished:
            log.warning("service_jobs_still_running", timeout_s=self.app.settings.shutdown_timeout_s)
        with session_scope(self.app.engine) as session:
            unregister_worker(session=session, owner=self.owner)
        log.info("service_stopped", worker=self.owner, clean=finished)
        return finished


def run_service(app: AppContext, *, metrics_port: int | None = None, metrics_host: str = "127.0.0.1") -> int:
    """`faturas run`: start, wait for SIGTERM/SIGINT, stop cleanly; returns the exit code.

    With `metrics_port`, `/healthz`, `/readyz` and `/metrics` are served there while the service runs.
    """
    from service.http import HealthServer

    service = Service(app)
    signal.signal(signal.SIGTERM, service.request_stop)
    signal.signal(signal.SIGINT, service.request_stop)
    service.start()
    health = None
    if metrics_port is not None:
        health = HealthServer(app, host=metrics_host, port=metrics_port, stale_after_s=STALE_AFTER_S)
    finished = service.wait()
    if health is not None:
        health.close()
    if not finished:
        # A job overran the bound (e.g. a slow portal page): its item resumes in the next run (flows and
        # the pipeline are idempotent), so leave now rather than wait for its thread.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0

