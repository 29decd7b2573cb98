"""`faturas serve` (the dashboard and API) and `faturas users …` (integrators, API tokens, webhooks)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from cli.support import app_context, read_secret
from storage.engine import session_scope
from storage.errors import UnitInputError
from storage.integrators import (
    assign_units,
    get_integrator,
    list_integrators,
    revoke_token,
    set_integrator_active,
    tokens_of,
)

users_app = typer.Typer(help="Integrators who use the dashboard and the API.", no_args_is_help=True)
console = Console()


def serve(ctx: typer.Context,
          host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
          port: int = typer.Option(8000, "--port", help="TCP port (with --sandbox, 0 picks a free one)."),
          with_worker: bool = typer.Option(False, "--with-worker",
                                           help="Also run the service's jobs (faturas run) in this process."),
          sandbox: bool = typer.Option(False, "--sandbox",
                                       help="Try everything on one machine: the dashboard, the service, the CEMIG "
                                            "simulator and an embedded mail system, in a temporary data folder "
                                            "(or faturas --data-dir DIR). Prints the login and sample clients.")
          ) -> None:
    """Run the integrators' dashboard and the JSON API (/api/v1) with uvicorn.

    With --sandbox nothing needs configuring: log in with the printed credentials and add a unit.
    Press "Aderir automaticamente", then "Gerar faturas do mês (simulador)". Ctrl-C stops it all.

    Example: faturas serve --host 0.0.0.0 --port 8080
    Example: faturas serve --sandbox
    """
    if sandbox:
        from config.logs import configure_logging
        from sandbox.serve import run_sandbox

        app = app_context(ctx)
        # Like the demo: warnings only, the dashboard shows what happens.
        configure_logging(fmt=app.settings.log_format, level="warning", redactor=app.redactor)
        data_dir = ctx.find_root().params.get("data_dir")  # only an explicit --data-dir, never the default
        raise typer.Exit(run_sandbox(host=host, port=port, data_dir=data_dir, redactor=app.redactor,
                                     echo=typer.echo))

    from web.server import serve_dashboard

    serve_dashboard(app_context(ctx), host=host, port=port, with_worker=with_worker)


@users_app.command("add")
def add(ctx: typer.Context, email: str = typer.Argument(..., help="The integrator's e-mail (their login)."),
        name: str = typer.Option(None, "--name", help="Name shown in the dashboard."),
        ask_password: bool = typer.Option(False, "--ask-password", help="Prompt for the password (hidden)."),
        password_file: Path = typer.Option(None, "--password-file",
                                           help="Read the password from this file (- = stdin).")
        ) -> None:
    """Create an integrator who logs into the dashboard (password hashed with argon2).

    Example: faturas users add ana@solar.example.com --name "Ana" --ask-password
    """
    from web.services.accounts import add_user

    password = read_secret(file=password_file, ask=ask_password, label="password")
    if not password:
        raise UnitInputError("password", "give it with --ask-password or --password-file")
    try:
        with session_scope(app_context(ctx).engine) as session:
            integrator = add_user(session=session, email=email, password=password, name=name)
    except ValueError as exc:
        raise UnitInputError("password", str(exc)) from exc
    typer.echo(f"integrator {integrator.id} created: {integrator.email}")


@users_app.command("list")
def list_(ctx: typer.Context) -> None:
    """List the integrators.

    Example: faturas users list
    """
    table = Table("id", "e-mail", "name", "active")
    with session_scope(app_context(ctx).engine) as session:
        for integrator in list_integrators(session=session):
            table.add_row(str(integrator.id), integrator.email, integrator.name or "-",
                          "yes" if integrator.active else "no")
    console.print(table)


@users_app.command("assign")
def assign(ctx: typer.Context, email: str = typer.Argument(..., help="The integrator's e-mail."),
           units: list[str] = typer.Argument(..., help="Unit ids, installations or UC codes.")) -> None:
    """Give existing units to an integrator (only they see them in the dashboard and the API).

    Example: faturas users assign ana@solar.example.com 12 13 3000055479
    """
    with session_scope(app_context(ctx).engine) as session:
        integrator = get_integrator(session=session, email=email)
        assigned = assign_units(session=session, integrator=integrator, refs=units)
        typer.echo(f"{len(assigned)} unit(s) assigned to {integrator.email}")


token_app = typer.Typer(help="API bearer tokens of an integrator: create, list, revoke.", no_args_is_help=True)
users_app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(ctx: typer.Context, email: str = typer.Argument(..., help="The integrator's e-mail."),
                 name: str = typer.Option("api", "--name", help="A label for the token.")) -> None:
    """Create an API bearer token for an integrator; it is printed once, only its hash is kept.

    Example: faturas users token create ana@solar.example.com --name erp
    """
    from web.services.accounts import new_api_token

    with session_scope(app_context(ctx).engine) as session:
        integrator = get_integrator(session=session, email=email)
        value = new_api_token(session=session, integrator=integrator, name=name)
    typer.echo(value)


@token_app.command("list")
def token_list(ctx: typer.Context, email: str = typer.Argument(..., help="The integrator's e-mail.")) -> None:
    """List an integrator's tokens (id, name, prefix, use, revocation); never the token itself.

    Example: faturas users token list ana@solar.example.com
    """
    table = Table("id", "name", "prefix", "created", "last used", "revoked")
    with session_scope(app_context(ctx).engine) as session:
        integrator = get_integrator(session=session, email=email)
        for row in tokens_of(session=session, integrator_id=integrator.id or 0):
            table.add_row(str(row.id), row.name, row.prefix, f"{row.created_at:%Y-%m-%d %H:%M}",
                          f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "-",
                          f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "-")
    console.print(table)


@token_app.command("revoke")
def token_revoke(ctx: typer.Context,
                 ref: str = typer.Argument(..., help="The token id (see `token list`) or its prefix (fat_…).")
                 ) -> None:
    """Revoke an API token: requests with it are refused from now on.

    Example: faturas users token revoke 3
    """
    with session_scope(app_context(ctx).engine) as session:
        row = revoke_token(session=session, ref=ref)
    typer.echo(f"token {row.id} ({row.name}, {row.prefix}…) revoked")


def _set_active(ctx: typer.Context, email: str, active: bool) -> None:
    with session_scope(app_context(ctx).engine) as session:
        integrator = get_integrator(session=session, email=email)
        set_integrator_active(session=session, integrator=integrator, active=active)
    typer.echo(f"integrator {integrator.email} {'enabled' if active else 'disabled'}")


@users_app.command("disable")
def disable(ctx: typer.Context, email: str = typer.Argument(..., help="The integrator's e-mail.")) -> None:
    """Disable an integrator: their dashboard sessions end and their API tokens stop working (units stay).

    Example: faturas users disable ana@solar.example.com
    """
    _set_active(ctx, email, False)


@users_app.command("enable")
def enable(ctx: typer.Context, email: str = typer.Argument(..., help="The integrator's e-mail.")) -> None:
    """Enable a disabled integrator again (tokens not revoked work again; they log in again).

    Example: faturas users enable ana@solar.example.com
    """
    _set_active(ctx, email, True)


@users_app.command("webhook")
def webhook(ctx: typer.Context, email: str = typer.Argument(..., help="The integrator's e-mail."),
            url: str = typer.Argument(..., help="The receiver's URL (http:// or https://)."),
            events: list[str] = typer.Option(None, "--event",
                                             help="invoice.received, invoice.payee_mismatch, adhesion.changed or "
                                                  "alert.raised (repeatable; default all).")
            ) -> None:
    """Register a webhook receiver; prints the HMAC-SHA256 signing secret once.

    Example: faturas users webhook ana@solar.example.com https://erp.example.com/faturas --event invoice.received
    """
    from service.webhooks import register_endpoint

    app = app_context(ctx)
    try:
        with session_scope(app.engine) as session:
            integrator = get_integrator(session=session, email=email)
            endpoint, secret = register_endpoint(session=session, keys=app.keys(), integrator_id=integrator.id or 0,
                                                 url=url, events=list(events or []))
    except ValueError as exc:
        raise UnitInputError("webhook", str(exc)) from exc
    typer.echo(f"webhook {endpoint.id} registered; signing secret (shown once): {secret}")
