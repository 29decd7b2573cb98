"""The `faturas` command line: a thin layer over library functions; see `faturas --help`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from cli.adhere import adhere_app
from cli.admin import backup, blobs_app, db_app, keys_app, restore
from cli.clients import clients_app
from cli.invoices import invoices_app
from cli.logins import logins_app
from cli.mail import mail_app
from cli.service import doctor as doctor_command
from cli.service import run as run_command
from cli.service import status as status_command
from cli.support import app_context, run_app
from cli.units import units_app
from cli.web import serve, users_app
from config.context import AppContext
from config.logs import configure_logging
from config.settings import load_settings


def _root(ctx: typer.Context,
          config: Path = typer.Option(None, "--config", "-c", help="TOML configuration file (FATURAS_CONFIG)."),
          data_dir: Path = typer.Option(None, "--data-dir", help="Data folder (FATURAS_DATA_DIR)."),
          log_format: str = typer.Option(None, "--log-format", help="auto, json or console (FATURAS_LOG_FORMAT).")
          ) -> None:
    """Faturas: enrol clients' units in the utility's e-mail bills, then read, keep and forward every bill.

    Example: faturas units list
    """
    environ = dict(os.environ)
    if data_dir is not None:
        environ["FATURAS_DATA_DIR"] = str(data_dir)
    if log_format is not None:
        environ["FATURAS_LOG_FORMAT"] = log_format
    settings = load_settings(environ, config)
    redactor = configure_logging(fmt=settings.log_format, level=settings.log_level)
    ctx.obj = AppContext(settings=settings, redactor=redactor)
    ctx.call_on_close(ctx.obj.close)


def demo(ctx: typer.Context,
         folder: Path = typer.Option(None, "--folder", help="Run in this folder instead of a new temporary one.")
         ) -> None:
    """Run the main job on embedded defaults: simulator, embedded mail, bot, two billing cycles, forwards.

    Uses a new temporary folder (printed at the end) and touches nothing else; exits 1 if any unit did
    not end enrolled with both bills stored and forwarded.

    Example: faturas demo
    """
    from sandbox.demo import run_demo

    app = app_context(ctx)
    configure_logging(fmt=app.settings.log_format, level="warning", redactor=app.redactor)
    raise typer.Exit(0 if run_demo(data_dir=folder).complete else 1)


def record(ctx: typer.Context, unit: str = typer.Argument(..., help="Unit id, installation or UC code."),
           out: Path = typer.Option(..., "--out", "-o", help="Where to write the fixture (.har.zip).")) -> None:
    """Record a unit's adhesion run as a HAR fixture for QA, with secrets scrubbed.

    This is a real adhesion: it changes the portal. See the README for recording and replaying fixtures.

    Example: faturas record 12 --out tests/flows/fixtures/cemig-new-fresh.har.zip
    """
    from bot.har import record_unit

    outcome = record_unit(app_context(ctx), unit, out)
    typer.echo(f"recorded {out} (unit {outcome.unit_id}: {outcome.status.value})")
    if outcome.failed:
        raise typer.Exit(1)


def build_app() -> typer.Typer:
    """The Typer application with every sub-command mounted."""
    app = typer.Typer(help=_root.__doc__, no_args_is_help=True, pretty_exceptions_enable=False,
                      add_completion=False)
    app.callback()(_root)
    app.add_typer(units_app, name="units")
    app.add_typer(logins_app, name="logins")
    app.add_typer(clients_app, name="clients")
    app.add_typer(keys_app, name="keys")
    app.add_typer(db_app, name="db")
    app.add_typer(blobs_app, name="blobs")
    app.add_typer(mail_app, name="mail")
    app.add_typer(invoices_app, name="invoices")
    app.add_typer(adhere_app, name="adhere")
    app.add_typer(users_app, name="users")
    app.command("serve")(serve)
    app.command("demo")(demo)
    app.command("record")(record)
    app.command("run")(run_command)
    app.command("status")(status_command)
    app.command("doctor")(doctor_command)
    app.command("backup")(backup)
    app.command("restore")(restore)
    from sandbox.simulator_cli import simulator_app  # the local CEMIG, for QA and the demo

    app.add_typer(simulator_app, name="simulator", help="The local CEMIG simulator (portal and bills) for QA.")
    return app


def main() -> None:
    """Console-script entry point."""
    sys.exit(run_app(build_app()))
