"""`faturas mail …`: poll the bill inboxes, show where messages stand, retry and reprocess them."""

from __future__ import annotations

import json
import time
from datetime import UTC

import typer
from rich.console import Console
from rich.table import Table

from cli.mail_accounts import accounts_app
from cli.support import EXIT_FAILED, EXIT_UNAVAILABLE, app_context
from config.wiring import build_pipeline
from processor.errors import MessageNotFound
from processor.pipeline import PassReport, poll_once
from processor.requeue import requeue
from storage.engine import session_scope
from storage.errors import ConfigurationError
from storage.mail import find_message, forward_counts, messages_in_stage, oldest_waiting, stage_counts
from storage.mail_models import MessageStage
from storage.models import utcnow

mail_app = typer.Typer(help="The bill inboxes: poll them, see where messages stand, retry and reprocess.",
                       no_args_is_help=True)
mail_app.add_typer(accounts_app, name="accounts")
console = Console()


def _print_pass(report: PassReport, *, as_json: bool) -> None:
    data = {
        "accounts": [{"account": a.account, "outcomes": a.outcomes, "settled": a.settled, "error": a.error,
                      "busy": a.busy} for a in report.accounts],
        "forwarded": report.forwarded, "retried": report.outbox.retried, "parked": report.outbox.parked,
        "relay_unavailable": report.outbox.relay_unavailable,
    }
    if as_json:
        console.print_json(json.dumps(data))
        return
    for account in data["accounts"]:
        outcome = ", ".join(f"{k} {v}" for k, v in sorted(account["outcomes"].items())) or "nothing new"
        state = f"error: {account['error']}" if account["error"] else ("busy" if account["busy"] else outcome)
        console.print(f"{account['account']}: {state}", highlight=False)
    console.print(f"forwarded {data['forwarded']}, retrying {data['retried']}, parked {data['parked']}"
                  + (" (SMTP relay unavailable)" if data["relay_unavailable"] else ""), highlight=False)


@mail_app.command("poll")
def poll(ctx: typer.Context,
         once: bool = typer.Option(False, "--once", help="One pass over every account, then exit."),
         interval: float = typer.Option(60.0, "--interval", min=1, help="Seconds between passes (without --once)."),
         as_json: bool = typer.Option(False, "--json", help="Print each pass's report as JSON.")) -> None:
    """Read every bill inbox: store, forward and file each new bill (exit 1: an account failed; 8: relay down).

    Example: faturas mail poll --once
    """
    app = app_context(ctx)
    if not app.settings.mail.accounts:
        raise ConfigurationError("no mail account is configured: set FATURAS_IMAP_HOST (and _USER, _PASSWORD) "
                                 "or add a [[mail.accounts]] table to the TOML file")
    pipeline = build_pipeline(app)
    while True:
        report = poll_once(pipeline)
        _print_pass(report, as_json=as_json)
        if once:
            raise typer.Exit(_exit_code(report))
        time.sleep(interval)


def _exit_code(report: PassReport) -> int:
    """A failed account first; else a relay that refused the forwards (bills stored, to be sent later)."""
    if any(a.error for a in report.accounts):
        return EXIT_FAILED
    return EXIT_UNAVAILABLE if report.outbox.relay_unavailable else 0


@mail_app.command("status")
def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Messages per stage, the oldest message still waiting, and the outbox.

    Example: faturas mail status --json
    """
    app = app_context(ctx)
    with session_scope(app.engine) as session:
        stages = stage_counts(session=session)
        oldest = oldest_waiting(session=session)
        outbox = forward_counts(session=session)
    waiting = None
    if oldest is not None:
        created = oldest.created_at if oldest.created_at.tzinfo else oldest.created_at.replace(tzinfo=UTC)
        age = utcnow() - created  # SQLite hands back naive UTC datetimes
        waiting = {"id": oldest.id, "stage": oldest.stage, "since": oldest.created_at.isoformat(),
                   "age_seconds": int(age.total_seconds()), "error": oldest.error}
    data = {"stages": stages, "oldest_waiting": waiting, "outbox": outbox}
    if as_json:
        console.print_json(json.dumps(data))
        return
    table = Table("stage", "messages")
    for stage in MessageStage:
        table.add_row(stage.value, str(stages.get(stage.value, 0)))
    console.print(table)
    console.print("outbox: " + (", ".join(f"{k} {v}" for k, v in sorted(outbox.items())) or "empty"),
                  highlight=False)
    if waiting:
        console.print(f"oldest waiting: message {waiting['id']} ({waiting['stage']}) since {waiting['since']}",
                      highlight=False)
    else:
        console.print("nothing waiting")


@mail_app.command("retry")
def retry(ctx: typer.Context, message: str = typer.Argument(..., help="Ledger id or Message-ID.")) -> None:
    """Process one message again: move it back to the inbox (or reset it) and un-park its forwards.

    Example: faturas mail retry 42
    """
    app = app_context(ctx)
    with session_scope(app.engine) as session:
        row = find_message(session=session, ref=message)
    if row is None or row.id is None:
        raise MessageNotFound(f"no examined message with id or Message-ID {message!r}")
    (result,) = requeue(build_pipeline(app), message_ids=[row.id])
    console.print(f"message {result.mail_message_id}: {result.action}"
                  + (f" ({result.detail})" if result.detail else ""), highlight=False)
    if result.action == "not_found":
        raise typer.Exit(EXIT_FAILED)


@mail_app.command("reprocess")
def reprocess(ctx: typer.Context,
              stage: str = typer.Option(..., "--stage", help="Every message with this outcome, e.g. pdf_locked.")
              ) -> None:
    """Process again every message in a stage (after registering a PDF password, adding a unit…).

    Example: faturas mail reprocess --stage pdf_locked
    """
    valid = [s.value for s in MessageStage]
    if stage not in valid:
        raise typer.BadParameter(f"must be one of {', '.join(valid)}", param_hint="--stage")
    app = app_context(ctx)
    with session_scope(app.engine) as session:
        ids = [m.id for m in messages_in_stage(session=session, stage=stage) if m.id is not None]
    results = requeue(build_pipeline(app), message_ids=ids) if ids else []
    counts: dict[str, int] = {}
    for result in results:
        counts[result.action] = counts.get(result.action, 0) + 1
    console.print(f"{len(ids)} message(s) in {stage}: "
                  + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to do"), highlight=False)
    if counts.get("not_found"):
        raise typer.Exit(EXIT_FAILED)
