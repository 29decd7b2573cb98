"""`faturas units …`: register, inspect, change and remove consumer units; CSV import and export."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.support import EXIT_FAILED, app_context, read_secret
from storage.engine import session_scope
from storage.models import AdhesionStatus, UnitCreate, UnitPublic, UnitUpdate
from storage.unit_csv import export_units, import_units, read_rows
from storage.units import create_unit, get_unit, list_units, remove_unit, update_unit
from storage.validators import format_document

units_app = typer.Typer(help="Consumer units (unidades consumidoras) of your clients.", no_args_is_help=True)
console = Console()

_INSTALLATION = typer.Option(None, "--installation", "-i",
                             help="CEMIG installation number (10 digits); a UC code given here is taken as --uc.")
_UC = typer.Option(None, "--uc", help="Unidade Consumidora code (CEMIG, from 2026): 15 digits or as printed, "
                                      "e.g. 4.533.142.018-50.")
_NAME = typer.Option(None, "--client-name", "-n", help="Client's name.")
_DOCUMENT = typer.Option(None, "--document", "-d", help="Holder's CPF or CNPJ (with or without mask).")
_LOGIN = typer.Option(None, "--portal-login", help="Login at the utility's portal (CPF/CNPJ or e-mail).")
_PW_FILE = typer.Option(None, "--portal-password-file", help="Read the portal password from this file (- = stdin).")
_PW_ASK = typer.Option(False, "--ask-portal-password", help="Prompt for the portal password (hidden).")
_FORWARD = typer.Option(None, "--forward-to", "-f", help="Client address that receives the bills (repeatable).")
_PDF_FILE = typer.Option(None, "--pdf-password-file", help="Read the bill PDF password from this file (- = stdin).")
_PDF_ASK = typer.Option(False, "--ask-pdf-password", help="Prompt for the bill PDF password (hidden).")


def _print_unit(unit: UnitPublic) -> None:
    """What the integrator's "Cadastrar e-mail" pop-up shows, plus the unit's identity and state."""
    table = Table(show_header=False, box=None)
    table.add_row("Unit", f"{unit.id}  ({unit.utility})")
    table.add_row("Installation", unit.installation or "-")
    table.add_row("UC code", unit.uc_code or "-")
    table.add_row("Client", unit.client_name)
    table.add_row("Holder CPF/CNPJ", format_document(unit.holder_document))
    table.add_row("Portal login", unit.portal_login or "-")
    table.add_row("Portal password", "set" if unit.has_portal_password else "not set")
    table.add_row("E-mail para cadastro na concessionária", unit.inbox_address)
    table.add_row("E-mail para receber as faturas", ", ".join(unit.forward_to) or "-")
    table.add_row("Ativar faturas por e-mail", "on" if unit.email_bills_enabled else "off")
    table.add_row("PDF password", "set" if unit.has_pdf_password else "not set")
    table.add_row("Adhesion", f"{unit.adhesion_status} (next: {unit.next_actor})")
    if unit.adhesion_message:
        table.add_row("Message", unit.adhesion_message)
    console.print(table)


@units_app.command("add")
def add(ctx: typer.Context, installation: str = _INSTALLATION, uc: str = _UC, client_name: str = _NAME,
        document: str = _DOCUMENT, portal_login: str = _LOGIN, portal_password_file: Path = _PW_FILE,
        ask_portal_password: bool = _PW_ASK, forward_to: list[str] = _FORWARD,
        email_bills: bool = typer.Option(True, "--email-bills/--no-email-bills",
                                         help="Ativar faturas por e-mail: forward bills to the client."),
        pdf_password_file: Path = _PDF_FILE, ask_pdf_password: bool = _PDF_ASK,
        as_json: bool = typer.Option(False, "--json", help="Print the unit as JSON.")) -> None:
    """Register a unit and generate its inbox address.

    Example: faturas units add -i 3000055479 -n "Maria Silva" -d 529.982.247-25 --portal-login 529.982.247-25
    --ask-portal-password -f maria@example.com
    """
    app = app_context(ctx)
    unit_in = UnitCreate(
        installation=installation, uc_code=uc, client_name=client_name or "", holder_document=document or "",
        portal_login=portal_login, forward_to=forward_to or [], email_bills_enabled=email_bills,
        portal_password=read_secret(file=portal_password_file, ask=ask_portal_password, label="portal_password"),
        pdf_password=read_secret(file=pdf_password_file, ask=ask_pdf_password, label="pdf_password"),
    )
    keys = app.keys() if (unit_in.portal_password or unit_in.pdf_password) else app.keys_if_any()
    with session_scope(app.engine) as session:
        unit = UnitPublic.from_unit(create_unit(session=session, unit_in=unit_in, keys=keys, inbox=app.inbox_policy))
    if as_json:
        console.print_json(unit.model_dump_json())
    else:
        _print_unit(unit)


@units_app.command("list")
def list_(ctx: typer.Context,
          status: AdhesionStatus = typer.Option(None, "--status", help="Only units in this adhesion state."),
          search: str = typer.Option(None, "--search", "-s", help="Match name, installation or inbox."),
          as_json: bool = typer.Option(False, "--json", help="Print JSON lines.")) -> None:
    """List units.

    Example: faturas units list --status pending
    """
    with session_scope(app_context(ctx).engine) as session:
        units = [UnitPublic.from_unit(u) for u in list_units(session=session, status=status, search=search)]
    if as_json:
        for unit in units:
            sys.stdout.write(unit.model_dump_json() + "\n")
        return
    table = Table("id", "installation", "client", "inbox address", "forward to", "adhesion")
    for unit in units:
        table.add_row(str(unit.id), unit.installation or unit.uc_code or "", unit.client_name, unit.inbox_address,
                      ", ".join(unit.forward_to), unit.adhesion_status)
    console.print(table)
    console.print(f"{len(units)} unit(s)")


@units_app.command("show")
def show(ctx: typer.Context, ref: str = typer.Argument(..., help="Unit id, installation or UC code."),
         as_json: bool = typer.Option(False, "--json", help="Print the unit as JSON.")) -> None:
    """Show a unit as the integrator's pop-up does (the PDF password only as set / not set).

    Example: faturas units show 3000055479
    """
    with session_scope(app_context(ctx).engine) as session:
        unit = UnitPublic.from_unit(get_unit(session=session, ref=ref))
    if as_json:
        console.print_json(unit.model_dump_json())
    else:
        _print_unit(unit)


@units_app.command("update")
def update(ctx: typer.Context, ref: str = typer.Argument(..., help="Unit id, installation or UC code."),
           installation: str = _INSTALLATION, uc: str = _UC, client_name: str = _NAME, document: str = _DOCUMENT,
           portal_login: str = _LOGIN, portal_password_file: Path = _PW_FILE, ask_portal_password: bool = _PW_ASK,
           forward_to: list[str] = _FORWARD,
           email_bills: bool = typer.Option(None, "--email-bills/--no-email-bills",
                                            help="Turn forwarding to the client on or off."),
           pdf_password_file: Path = _PDF_FILE, ask_pdf_password: bool = _PDF_ASK,
           clear_pdf_password: bool = typer.Option(False, "--clear-pdf-password", help="Forget the PDF password.")
           ) -> None:
    """Change a unit; only the options given are changed.

    Example: faturas units update 3000055479 -f maria@example.com -f joao@example.com --ask-pdf-password
    """
    app = app_context(ctx)
    changes: dict[str, object] = {k: v for k, v in {
        "installation": installation, "uc_code": uc, "client_name": client_name, "holder_document": document,
        "portal_login": portal_login, "forward_to": forward_to or None, "email_bills_enabled": email_bills,
        "portal_password": read_secret(file=portal_password_file, ask=ask_portal_password, label="portal_password"),
        "pdf_password": "" if clear_pdf_password else read_secret(file=pdf_password_file, ask=ask_pdf_password,
                                                                  label="pdf_password"),
    }.items() if v is not None}
    unit_in = UnitUpdate(**changes)  # type: ignore[arg-type]
    keys = app.keys() if (unit_in.portal_password or unit_in.pdf_password) else app.keys_if_any()
    with session_scope(app.engine) as session:
        unit = get_unit(session=session, ref=ref)
        unit = update_unit(session=session, unit=unit, unit_in=unit_in, keys=keys)
        public = UnitPublic.from_unit(unit)
    _print_unit(public)


@units_app.command("remove")
def remove(ctx: typer.Context, ref: str = typer.Argument(..., help="Unit id, installation or UC code."),
           yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
    """Remove a unit. Its inbox address is never given to another unit.

    Example: faturas units remove 3000055479 --yes
    """
    with session_scope(app_context(ctx).engine) as session:
        unit = get_unit(session=session, ref=ref)
        label = f"unit {unit.id} ({unit.installation or unit.uc_code}, {unit.client_name})"
        if not yes:
            typer.confirm(f"Remove {label}?", abort=True)
        remove_unit(session=session, unit=unit)
    console.print(f"removed {label}")


@units_app.command("import")
def import_(ctx: typer.Context, path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV file."),
            report: Path = typer.Option(None, "--report", help="Also write the rejected rows to this CSV.")) -> None:
    """Import units from a CSV (format in the README); good rows are kept, bad rows reported.

    Exits 1 when any row was rejected.

    Example: faturas units import examples/units.csv --report rejected.csv
    """
    app = app_context(ctx)
    _, rows = read_rows(path)  # fail fast on a bad header before the progress bar starts
    total = sum(1 for _ in rows)
    with Progress(TextColumn("importing units"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True)) as progress:
        task = progress.add_task("import", total=total)
        result = import_units(engine=app.engine, path=path, keys=app.keys_if_any(), inbox=app.inbox_policy,
                              batch_size=app.settings.csv_batch_size,
                              on_progress=lambda n: progress.advance(task, n))
    console.print(f"{result.created} unit(s) imported, {len(result.rejected)} row(s) rejected")
    if result.rejected:
        table = Table("line", "column", "reason", title="Rejected rows")
        for row in result.rejected:
            table.add_row(str(row.line), row.column, row.reason)
        console.print(table)
        if report is not None:
            with report.open("w", encoding="utf-8", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(("line", "column", "reason"))
                writer.writerows((r.line, r.column, r.reason) for r in result.rejected)
        raise typer.Exit(EXIT_FAILED)


@units_app.command("export")
def export(ctx: typer.Context, path: Path = typer.Argument(..., help="Output CSV file, or - for stdout.")) -> None:
    """Export every unit as CSV (passwords are never exported).

    Example: faturas units export units.csv
    """
    with session_scope(app_context(ctx).engine) as session:
        units = list_units(session=session)
    if str(path) == "-":
        count = export_units(units, sys.stdout)  # type: ignore[arg-type]
    else:
        with path.open("w", encoding="utf-8", newline="") as out:
            count = export_units(units, out)  # type: ignore[arg-type]
        console.print(f"{count} unit(s) written to {path}")
