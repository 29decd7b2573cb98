"""`faturas adhere …`: enrol units in the utility's e-mail bills with the browser bot, and inspect attempts."""

from __future__ import annotations

import json
from pathlib import Path

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from bot.runs import options_for_run, run_units, units_for_run
from cli.support import EXIT_FAILED, app_context
from config.context import AppContext
from config.wiring import blob_store
from storage.adhesion import attempts_of, prune_artifacts
from storage.engine import session_scope
from storage.errors import UnitInputError
from storage.models import NEXT_ACTOR, AdhesionAttempt, AdhesionStatus
from storage.units import get_unit

console = Console()


class _RunByDefault(TyperGroup):
    """`faturas adhere 12 13` means `faturas adhere run 12 13`; named sub-commands still work."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


adhere_app = typer.Typer(cls=_RunByDefault, no_args_is_help=True,
                         help="Enrol units in Conta Digital with the browser bot (`faturas adhere UNIT…`).")


@adhere_app.command("run")
def run(ctx: typer.Context,
        units: list[str] = typer.Argument(None, help="Unit ids, installations or UC codes."),
        all_pending: bool = typer.Option(False, "--all-pending", help="Every unit whose next step is the bot's."),
        concurrency: int = typer.Option(None, "--concurrency", "-c", min=1, max=16,
                                        help="Units at a time (one browser context each)."),
        headed: bool = typer.Option(False, "--headed", help="Show the browser so an operator can solve a captcha."),
        attempts: int = typer.Option(None, "--attempts", min=1, max=10,
                                     help="Attempts per unit for transient failures."),
        capture: Path = typer.Option(None, "--capture", file_okay=False,
                                     help="One unit: write each screen's ARIA snapshot and the run's HAR, "
                                          "scrubbed of its password and login, into this folder.")) -> None:
    """Enrol units; exits 1 when any unit did not end enrolled.

    Example: faturas adhere 12 13 --concurrency 2   ·   faturas adhere --all-pending
    ·   faturas adhere 12 --headed --capture ./capture-12 (a supervised first run on a portal)
    """
    app = app_context(ctx)
    ids = units_for_run(app, refs=list(units or []), all_pending=all_pending)
    if capture is not None:
        _capture(app, ids, capture, headed=headed)
        return
    options = options_for_run(app, concurrency=concurrency, headed=headed, attempts=attempts)
    if not ids:
        console.print("no unit waits for the bot")
        return
    with Progress(TextColumn("enrolling units"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True)) as progress:
        task = progress.add_task("adhere", total=len(ids))
        outcomes = run_units(app, ids, options, on_done=lambda _: progress.advance(task))
    table = Table("unit", "state", "next", "attempts", "changes", "message")
    for outcome in outcomes:
        table.add_row(str(outcome.unit_id), outcome.status.value, NEXT_ACTOR[outcome.status], str(outcome.attempts),
                      ", ".join(outcome.changes) or "-", outcome.message or "")
    console.print(table)
    failed = [o for o in outcomes if o.failed]
    console.print(f"{len(outcomes) - len(failed)} enrolled, {len(failed)} not enrolled")
    if failed:
        raise typer.Exit(EXIT_FAILED)


def _capture(app: AppContext, ids: list[int], folder: Path, *, headed: bool) -> None:
    from bot.capture import capture_unit

    if len(ids) != 1:
        raise UnitInputError("capture", f"--capture records one unit at a time; {len(ids)} were named")
    outcome, files = capture_unit(app, str(ids[0]), folder, headed=headed)
    for path in files:
        console.print(str(path))
    console.print(f"unit {outcome.unit_id}: {outcome.status.value} ({len(files) - 1} screens captured)"
                  + (f" — {outcome.message}" if outcome.message else ""))
    if outcome.failed:
        raise typer.Exit(EXIT_FAILED)


@adhere_app.command("show")
def show(ctx: typer.Context, unit: str = typer.Argument(..., help="Unit id, installation or UC code.")) -> None:
    """Show a unit's adhesion attempts and where their screenshots and traces are kept.

    Example: faturas adhere show 12
    """
    app = app_context(ctx)
    with session_scope(app.engine) as session:
        found = get_unit(session=session, ref=unit)
        history = attempts_of(session=session, unit_id=found.id or 0)
        status = AdhesionStatus(found.adhesion_status)
        console.print(f"unit {found.id}: {status.value} (next: {NEXT_ACTOR[status]})")
        if found.adhesion_message:
            console.print(found.adhesion_message)
    table = Table("attempt", "started", "finished", "outcome", "step", "submitted", "artifacts", "message")
    for attempt in history:
        table.add_row(str(attempt.id), attempt.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                      attempt.finished_at.strftime("%H:%M:%S") if attempt.finished_at else "-",
                      attempt.outcome or "running", attempt.step_reached or "-", str(attempt.submissions),
                      ", ".join(a["name"] for a in attempt.artifacts) or "-", attempt.message or "")
    console.print(table)
    _print_portal_evidence(app, history)
    if any(a.artifacts for a in history):
        console.print("Artifacts are encrypted. Export them with `faturas adhere artifacts ATTEMPT --out DIR`, "
                      "then open a trace with `.venv/bin/playwright show-trace DIR/trace-1.zip`.")


def _print_portal_evidence(app: AppContext, history: list[AdhesionAttempt]) -> None:
    """The newest attempt's portal_changed evidence: where it stopped, what it awaited, the ARIA snapshot."""
    for attempt in history:
        kept = [a for a in attempt.artifacts if a.get("kind") == "portal_evidence"]
        if not kept:
            continue
        evidence = json.loads(blob_store(app).get(kept[0]["blob"], keys=app.keys()))
        console.print(f"attempt {attempt.id} stopped at {evidence.get('step')} on {evidence.get('url')}")
        console.print(f"waiting for: {', '.join(evidence.get('waiting_for') or []) or '-'}")
        console.print(f"rejected candidates: {', '.join(evidence.get('rejected') or []) or '-'}")
        console.print(f"clicked: {', '.join(evidence.get('clicked') or []) or '-'}")
        console.print("ARIA snapshot of the page:")
        console.print(evidence.get("aria_snapshot") or "(none)", markup=False, highlight=False)
        return


@adhere_app.command("artifacts")
def artifacts(ctx: typer.Context, attempt_id: int = typer.Argument(..., help="Attempt id (see `adhere show`)."),
              out: Path = typer.Option(..., "--out", "-o", help="Folder to write the decrypted files to.")) -> None:
    """Decrypt an attempt's screenshot and traces into a folder (they may show the client's data).

    Example: faturas adhere artifacts 41 --out /tmp/attempt-41
    """
    app = app_context(ctx)
    with session_scope(app.engine) as session:
        attempt = session.get(AdhesionAttempt, attempt_id)
        if attempt is None or not attempt.artifacts:
            raise UnitInputError("attempt", f"attempt {attempt_id} has no kept artifacts")
        items = list(attempt.artifacts)
    blobs = blob_store(app)
    out.mkdir(parents=True, exist_ok=True)
    for item in items:
        (out / item["name"]).write_bytes(blobs.get(item["blob"], keys=app.keys()))
        console.print(f"wrote {out / item['name']}")


@adhere_app.command("prune")
def prune(ctx: typer.Context) -> None:
    """Delete screenshots and traces older than the retention period of playwright.config.

    Example: faturas adhere prune
    """
    app = app_context(ctx)
    with session_scope(app.engine) as session:
        removed = prune_artifacts(session=session, blobs=blob_store(app))
    console.print(f"removed {removed} artifact(s)")
