"""Prometheus metrics read from the shared database at each scrape, so every worker reports the same totals.

The figures are gauges of what the database holds (messages per outcome, bills, forwards per state, units
per adhesion state) plus each job's last run; rates come from PromQL (`increase(faturas_bills_stored[1h])`).
Each `MetricsCollector` belongs to one registry built by `metrics_registry`: nothing is registered globally.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlmodel import col, func, select

from service.status import collect_status
from storage.engine import session_scope
from storage.mail_models import Forward, ForwardStatus, Invoice
from storage.models import utcnow

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _seconds(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class MetricsCollector(Collector):
    """Collects faturas' figures from the database when Prometheus scrapes."""

    def __init__(self, engine: Engine, *, stale_after_s: float) -> None:
        self.engine = engine
        self.stale_after_s = stale_after_s

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One family per figure."""
        now = utcnow()
        with session_scope(self.engine) as session:
            status = collect_status(session=session, stale_after_s=self.stale_after_s)
            bills = session.exec(select(Invoice.status, func.count()).where(
                col(Invoice.superseded_by_id).is_(None)).group_by(Invoice.status)).all()
            retried = session.exec(select(func.count()).select_from(Forward).where(
                Forward.status == ForwardStatus.PENDING.value, Forward.attempts > 0)).one()
            oldest = session.exec(select(func.min(Forward.created_at)).where(
                col(Forward.status).in_([ForwardStatus.PENDING.value, ForwardStatus.SENDING.value]))).one()
        yield self._labelled("faturas_mail_messages", "Examined messages per outcome (ledger stage).", "stage",
                             status["mail"]["by_stage"])
        yield self._labelled("faturas_bills_stored", "Stored bills (current versions) per status.", "status",
                             dict(bills))
        yield self._labelled("faturas_forwards", "Forwards to clients per outbox state.", "status",
                             status["outbox"])
        yield GaugeMetricFamily("faturas_forwards_retrying", "Forwards waiting for a retry after a failed attempt.",
                                value=retried)
        oldest_s = _seconds(oldest)
        yield GaugeMetricFamily("faturas_outbox_oldest_seconds", "Age of the oldest forward not yet sent (0: none).",
                                value=max(0.0, now.timestamp() - oldest_s) if oldest_s else 0.0)
        yield self._labelled("faturas_units", "Units per adhesion state.", "state", status["units"]["by_state"])
        lag = status["mail"]["oldest_unsettled"]
        yield GaugeMetricFamily("faturas_mailbox_lag_seconds",
                                "Age of the oldest examined message not settled yet (0: none).",
                                value=float(lag["seconds"] or 0) if lag else 0.0)
        yield GaugeMetricFamily("faturas_workers_live", "Workers with a recent heartbeat.",
                                value=len(status["workers"]))
        duration = GaugeMetricFamily("faturas_job_last_duration_seconds", "Duration of each job's last run.",
                                     labels=["job"])
        finished = GaugeMetricFamily("faturas_job_last_finished_timestamp_seconds",
                                     "When each job last finished (Unix time).", labels=["job"])
        failed = GaugeMetricFamily("faturas_job_last_failed", "1 when a job's last run ended in an error.",
                                   labels=["job"])
        for job in status["jobs"]:
            started = _seconds(datetime.fromisoformat(job["last_started"])) if job["last_started"] else None
            ended = _seconds(datetime.fromisoformat(job["last_finished"])) if job["last_finished"] else None
            if started is not None and ended is not None and ended >= started:
                duration.add_metric([job["job"]], ended - started)
            if ended is not None:
                finished.add_metric([job["job"]], ended)
            failed.add_metric([job["job"]], 1.0 if job["error"] else 0.0)
        yield from (duration, finished, failed)

    @staticmethod
    def _labelled(name: str, documentation: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
        family = GaugeMetricFamily(name, documentation, labels=[label])
        for key, count in sorted(values.items()):
            family.add_metric([str(key)], float(count))
        return family


def metrics_registry(engine: Engine, *, stale_after_s: float) -> CollectorRegistry:
    """A registry of its own holding faturas' collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MetricsCollector(engine, stale_after_s=stale_after_s))
    return registry


def render_metrics(registry: CollectorRegistry) -> bytes:
    """The Prometheus text exposition of a registry."""
    return generate_latest(registry)
