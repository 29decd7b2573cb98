"""`faturas logins …`: portal logins, their units and the bills waiting for an installation to be registered."""

from __future__ import annotations

import asyncio
import json
import sys

import typer
from rich.console import Console
from rich.table import Table

from bot.discovery import DiscoveryStatus, discover_login
from bot.runs import options_for_run
from cli.support import EXIT_FAILED, app_context
from storage.credentials import erase_login_credentials
from storage.discovery import discovery_view, register_discovered
from storage.engine import session_scope
from storage.errors import UnitInputError
from storage.logins import get_login, list_logins, login_public, waiting_bill, waiting_messages
from storage.models import UnitCreate, UnitPublic
from storage.units import register_waiting_installation
from storage.validators import format_document

logins_app = typer.Typer(help="Portal logins: one login, its units (installations) and their shared inbox.",
                         no_args_is_help=True)
console = Console()


@logins_app.command("list")
def list_(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON lines.")) -> None:
    """List portal logins with their inbox address, e-mail state and number of units.

    Example: faturas logins list
    """
    with session_scope(app_context(ctx).engine) as session:
        logins = [login_public(session=session, login=row) for row in list_logins(session=session)]
    if as_json:
        for login in logins:
            sys.stdout.write(login.model_dump_json() + "\n")
        return
    table = Table("id", "utility", "login", "inbox address", "e-mail", "units", "waiting bills")
    for login in logins:
        table.add_row(str(login.id), login.utility, format_document(login.login) if "@" not in login.login
                      else login.login, login.inbox_address, login.email_status, str(len(login.units)),
                      str(len(login.waiting)))
    console.print(table)
    console.print(f"{len(logins)} login(s)")


@logins_app.command("show")
def show(ctx: typer.Context, login_id: int = typer.Argument(..., help="Portal login id (faturas logins list)."),
         as_json: bool = typer.Option(False, "--json", help="Print the login as JSON.")) -> None:
    """Show a login, its units with their states, and the bills waiting for one of its installations.

    Example: faturas logins show 3
    """
    with session_scope(app_context(ctx).engine) as session:
        login = login_public(session=session, login=get_login(session=session, login_id=login_id))
    if as_json:
        console.print_json(login.model_dump_json())
        return
    console.print(f"Login {login.id} ({login.utility}): {login.login}", highlight=False)
    console.print(f"E-mail para cadastro na concessionária: {login.inbox_address} (one per login: every unit of "
                  f"this login receives its bills there)", highlight=False)
    console.print(f"Access e-mail: {login.email_status}; portal password "
                  f"{'set' if login.has_password else 'not set'}", highlight=False)
    table = Table("unit", "installation", "UC code", "client", "adhesion", title="Units")
    for unit in login.units:
        table.add_row(str(unit.id), unit.installation or "-", unit.uc_code or "-", unit.client_name,
                      unit.adhesion_status)
    console.print(table)
    _print_waiting(login.waiting)


def _print_waiting(waiting) -> None:  # noqa: ANN001 - list of WaitingBill
    if not waiting:
        console.print("no bill waiting for an installation")
        return
    table = Table("message", "login", "installation", "UC code", "holder", "received",
                  title="Bills waiting for their installation (faturas logins register MESSAGE)")
    for bill in waiting:
        table.add_row(str(bill.mail_message_id), str(bill.portal_login_id), bill.installation or "-",
                      bill.uc_code or "-", bill.holder_name or "-", bill.received_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)


@logins_app.command("waiting")
def waiting(ctx: typer.Context) -> None:
    """List the bills that arrived at a login's inbox for an installation no unit of it has.

    Example: faturas logins waiting
    """
    with session_scope(app_context(ctx).engine) as session:
        _print_waiting([waiting_bill(m) for m in waiting_messages(session=session)])


@logins_app.command("register")
def register(ctx: typer.Context, message: int = typer.Argument(..., help="Id of the waiting message."),
             client_name: str = typer.Option(None, "--client-name", "-n", help="Instead of the bill's holder."),
             document: str = typer.Option(None, "--document", "-d", help="Instead of the login's units' CPF/CNPJ."),
             forward_to: list[str] = typer.Option(None, "--forward-to", "-f",
                                                  help="Client address for the bills (repeatable)."),
             yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
    """Register the installation of a waiting bill ("Cadastrar esta instalação"), pre-filled from the bill.

    The waiting message is then processed once by the next mail pass (`faturas mail poll` or the service).

    Example: faturas logins register 42 -f maria@example.com
    """
    app = app_context(ctx)

    def confirm(unit_in: UnitCreate) -> None:
        if not yes:
            typer.confirm(f"Register installation {unit_in.installation or unit_in.uc_code} ({unit_in.client_name},"
                          f" {format_document(unit_in.holder_document)}) under portal login {unit_in.portal_login},"
                          f" forwarding to {', '.join(unit_in.forward_to or []) or 'nobody'}?", abort=True)

    overrides = {"client_name": client_name, "holder_document": document, "forward_to": forward_to or None}
    with session_scope(app.engine) as session:
        unit = UnitPublic.from_unit(register_waiting_installation(
            session=session, message_id=message, overrides=overrides, keys=app.keys_if_any(),
            inbox=app.inbox_policy, confirm=confirm))
    code = unit.installation or unit.uc_code
    console.print(f"unit {unit.id} registered ({code}); the waiting bill is processed on the next mail pass",
                  highlight=False)


@logins_app.command("discover")
def discover(ctx: typer.Context, login_id: int = typer.Argument(..., help="Portal login id (faturas logins list)."),
             register_codes: str = typer.Option(None, "--register",
                                                help="Installations to register, comma-separated."),
             register_all: bool = typer.Option(False, "--all",
                                               help="Register every listed installation not yet registered and "
                                                    "active (the ones the dashboard pre-selects)."),
             headed: bool = typer.Option(False, "--headed", help="Show the browser (solve a captcha)."),
             as_json: bool = typer.Option(False, "--json", help="Print the discovery as JSON.")) -> None:
    """Log in with the login's credentials and list every installation under it ("Buscar instalações").

    Review the list, then register the missing ones in one step with --register N,N or --all; the new units
    join the login and share its inbox. Suspended and closed installations are listed but --all skips them.

    Example: faturas logins discover 3   ·   faturas logins discover 3 --register 3000010001,3000010003
    """
    app = app_context(ctx)
    outcome = asyncio.run(discover_login(app, login_id, options_for_run(app, headed=headed)))
    if outcome.status != DiscoveryStatus.DONE:
        console.print(f"{outcome.status}: {outcome.message}", highlight=False)
        raise typer.Exit(EXIT_FAILED)
    with session_scope(app.engine) as session:
        view = discovery_view(session=session, login_id=login_id)
        chosen = ([i.installation for i in view.installations if i.preselected] if register_all else
                  [c for c in (register_codes or "").split(",") if c.strip()])
        created = [UnitPublic.from_unit(u) for u in register_discovered(
            session=session, login_id=login_id, chosen=chosen, keys=app.keys_if_any(),
            inbox=app.inbox_policy)] if chosen else []
        view = discovery_view(session=session, login_id=login_id)
    if as_json:
        console.print_json(json.dumps({"login_id": login_id, "installations": [i.model_dump() for i in
                                                                                view.installations],
                                       "registered": [u.id for u in created]}))
        return
    table = Table("installation", "UC code", "address", "status", "customer", "unit", title="Listed installations")
    for item in view.installations:
        table.add_row(item.installation, item.uc_code or "-", item.address or "-", item.status or "-",
                      format_document(item.customer_document) if item.customer_document else "-",
                      str(item.unit_id) if item.unit_id else ("(offered)" if item.preselected else "-"))
    console.print(table)
    if created:
        console.print(f"registered {len(created)} unit(s): {', '.join(str(u.id) for u in created)}", highlight=False)
    elif view.missing:
        console.print(f"{len(view.missing)} not registered yet: rerun with --register N,N or --all",
                      highlight=False)


@logins_app.command("erase-credentials")
def erase_credentials(ctx: typer.Context,
                      login_id: int = typer.Argument(..., help="Portal login id (faturas logins list)."),
                      yes: bool = typer.Option(False, "--yes", help="Do it: without --yes nothing is erased.")) -> None:
    """Erase the login's portal password and saved browser sessions now (LGPD data minimisation).

    The bills keep coming to the login's inbox. Re-enrolment or discovery then ends in `password_required`
    until the password is given again. The service does this by itself once every unit of the login has
    been enrolled for `logins.erase_credentials_after_days` days.

    Example: faturas logins erase-credentials 3 --yes
    """
    if not yes:
        raise UnitInputError("--yes", "erasing cannot be undone: repeat the command with --yes")
    app = app_context(ctx)
    erased = erase_login_credentials(engine=app.engine, login_id=login_id, reason="on_request")
    console.print(f"login {login_id}: erased {erased.passwords} stored password(s) and {erased.sessions} saved "
                  f"session(s); the database was compacted", highlight=False)
