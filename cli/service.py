"""`faturas run` (the unattended service) and `faturas status`."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.support import EXIT_FAILED, app_context
from storage.engine import session_scope

console = Console()


def run(ctx: typer.Context,
        metrics_port: int = typer.Option(None, "--metrics-port", min=0, max=65535,
                                         help="Serve /healthz, /readyz and Prometheus /metrics on this port."),
        metrics_host: str = typer.Option("127.0.0.1", "--metrics-host",
                                         help="Address for --metrics-port (0.0.0.0 for a remote Prometheus).")
        ) -> None:
    """Run the service: mail polling, the adhesion queue, the outbox, the watchdog and clean-ups.

    Stops cleanly on SIGTERM or Ctrl-C. On PostgreSQL any number of `faturas run` processes share the
    work; on SQLite a second one is refused.

    Example: FATURAS_DATABASE_URL=postgresql://faturas@db/faturas faturas run --metrics-port 9464
    """
    from service.scheduler import run_service

    raise typer.Exit(run_service(app_context(ctx), metrics_port=metrics_port, metrics_host=metrics_host))


def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Units per state and who must act, mailbox lag, outbox backlog, jobs and live workers.

    Example: faturas status --json
    """
    from service.scheduler import STALE_AFTER_S
    from service.status import collect_status

    app = app_context(ctx)
    with session_scope(app.engine) as session:
        data = collect_status(session=session, stale_after_s=STALE_AFTER_S, mail=app.settings.mail)
    if as_json:
        console.print_json(json.dumps(data))
        return
    units = Table("state", "units", title=f"Units ({data['units']['total']})")
    for state, count in sorted(data["units"]["by_state"].items()):
        units.add_row(state, str(count))
    console.print(units)
    console.print("next to act: " + (", ".join(f"{k} {v}" for k, v in sorted(data["units"]["by_next_actor"].items()))
                                     or "-"), highlight=False)
    lag = data["mail"]["oldest_unsettled"]
    console.print("mailbox lag: " + (f"{lag['seconds']} s (message {lag['message']}, {lag['stage']})" if lag
                                     else "none"), highlight=False)
    console.print("outbox: " + (", ".join(f"{k} {v}" for k, v in sorted(data["outbox"].items())) or "empty"),
                  highlight=False)
    for box in data["mailboxes"]:
        if box["state"] != "ok":
            console.print(f"mailbox {box['account']} ({box['kind']}): {box['state']}, operator acts: "
                          f"faturas mail accounts authorize {box['account']}", highlight=False)
    jobs = Table("job", "last finished", "next run", "summary", "error", title="Jobs")
    for job in data["jobs"]:
        jobs.add_row(job["job"], job["last_finished"] or "-", job["next_run"] or "-",
                     json.dumps(job["summary"], ensure_ascii=False)[:80], job["error"] or "")
    console.print(jobs)
    workers = Table("worker", "pid", "heartbeat", "stopping", title="Live workers")
    for worker in data["workers"]:
        workers.add_row(worker["worker"], str(worker["pid"]), worker["heartbeat"], "yes" if worker["stopping"] else "")
    console.print(workers)


def doctor(ctx: typer.Context) -> None:
    """Check configuration, keys, database, mailboxes, SMTP relay, DKIM, browser, disk and blobs; exit 1 on a failure.

    Example: faturas doctor
    """
    from service.doctor import diagnose

    findings = diagnose(app_context(ctx))
    for finding in findings:
        mark = "[green]ok  [/]" if finding.ok else "[bold red]FAIL[/]"
        console.print(f"{mark} {finding.name}: {escape(finding.detail)}", highlight=False)
        if not finding.ok and finding.fix:
            console.print(f"     fix: {escape(finding.fix)}", highlight=False)
    failed = sum(1 for f in findings if not f.ok)
    console.print(f"doctor: {len(findings) - failed} checks passed, {failed} failed", highlight=False)
    if failed:
        raise typer.Exit(EXIT_FAILED)
