"""`faturas mail …`: poll the bill inboxes, show where messages stand, retry and reprocess them, trust senders."""

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
from processor.senders import trust_sender, untrust_sender
from storage.engine import session_scope
from storage.errors import ConfigurationError
from storage.mail import find_message, forward_counts, messages_in_stage, oldest_waiting, stage_counts
from storage.mail_models import MessageStage
from storage.models import utcnow
from storage.senders import dkim_failed_groups, trusted_domains

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


senders_app = typer.Typer(help="Who signs the held bills: group the dkim_failed quarantine, trust or untrust a "
                               "signing domain per utility.")
mail_app.add_typer(senders_app, name="senders")


@senders_app.callback(invoke_without_command=True)
def senders(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List the dkim_failed quarantine by signing domain and From domain, and the trusted domains.

    Example: faturas mail senders
    """
    if ctx.invoked_subcommand is not None:
        return
    app = app_context(ctx)
    with session_scope(app.engine) as session:
        groups = dkim_failed_groups(session=session)
        trusted = trusted_domains(session=session)
    configured = {u: list(d) for u, d in app.settings.mail.sending_domains.items()}
    if as_json:
        console.print_json(json.dumps({
            "held": [{"signers": list(g.signers), "signers_recorded": g.recorded, "from_domain": g.from_domain,
                      "utility": g.utility, "messages": g.count, "message_ids": g.message_ids} for g in groups],
            "trusted": {u: list(d) for u, d in trusted.items()}, "configured": configured}))
        return
    table = Table("messages", "signed by (d=)", "From domain", "utility")
    for group in groups:
        signers = ", ".join(group.signers) or ("(unsigned)" if group.recorded else "(not recorded: use mail retry)")
        table.add_row(str(group.count), signers, group.from_domain or "?",
                      group.utility or "?")
    console.print(table if groups else "no message held for its DKIM signature")
    for utility in sorted(set(configured) | set(trusted)):
        console.print(f"{utility}: configured {', '.join(configured.get(utility, [])) or '-'}; "
                      f"trusted {', '.join(trusted.get(utility, ())) or '-'}", highlight=False)


@senders_app.command("trust")
def trust(ctx: typer.Context, domain: str = typer.Argument(..., help="The signing domain (d=) to trust."),
          utility: str = typer.Option(..., "--utility", help="The utility whose bills it signs, e.g. cemig.")) -> None:
    """Trust a signing domain for a utility, then send the bills it signed back to the inbox (once).

    Example: faturas mail senders trust mailer.example.net --utility cemig
    """
    app = app_context(ctx)
    outcome = trust_sender(build_pipeline(app), utility=utility, domain=domain, by="cli")
    failed = [r for r in outcome.results if r.action == "not_found"]
    console.print(f"{outcome.domain} {'trusted' if outcome.new else 'already trusted'} for {utility}; "
                  f"{outcome.released} held message(s) sent back to the inbox"
                  + (f", {len(failed)} not found (try again)" if failed else ""), highlight=False)
    if failed:
        raise typer.Exit(EXIT_FAILED)


@senders_app.command("untrust")
def untrust(ctx: typer.Context, domain: str = typer.Argument(..., help="The signing domain (d=) to stop trusting."),
            utility: str = typer.Option(..., "--utility", help="The utility, e.g. cemig.")) -> None:
    """Stop trusting a signing domain for a utility (bills already processed stay as they are).

    Example: faturas mail senders untrust mailer.example.net --utility cemig
    """
    removed = untrust_sender(build_pipeline(app_context(ctx)), utility=utility, domain=domain)
    console.print(f"{domain} {'no longer trusted' if removed else 'was not trusted'} for {utility}", highlight=False)
    if not removed:
        raise typer.Exit(EXIT_FAILED)
