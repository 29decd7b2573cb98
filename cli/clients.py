"""`faturas clients …`: what is stored about one holder (CPF/CNPJ), exported or erased (LGPD)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import typer
from rich.console import Console

from cli.support import app_context
from config.wiring import blob_store
from storage.engine import session_scope
from storage.errors import UnitInputError
from storage.holders import erase_holder, export_holder
from storage.integrators import get_integrator

clients_app = typer.Typer(help="A holder's data (CPF/CNPJ): export it, or erase it (LGPD).", no_args_is_help=True)
console = Console()
_INTEGRATOR = typer.Option(None, "--integrator", help="Only this integrator's units (its login e-mail).")


def _integrator_id(app, email: str | None) -> int | None:  # noqa: ANN001 - AppContext
    if email is None:
        return None
    with session_scope(app.engine) as session:
        return get_integrator(session=session, email=email).id


@clients_app.command("export")
def export(ctx: typer.Context, document: str = typer.Argument(..., help="The holder's CPF or CNPJ."),
           out: Path = typer.Option(..., "--out", help="A new or empty folder for data.json and the bill PDFs."),
           integrator: str = _INTEGRATOR) -> None:
    """Write everything stored about a holder: data.json (units, bills, ledger, forwards, attempts) + PDFs.

    Secrets are listed as present or not, never decrypted. Example: faturas clients export 529.982.247-25 --out dir
    """
    app = app_context(ctx)
    if out.exists() and any(out.iterdir()):
        raise UnitInputError("--out", f"{out} is not empty")
    with session_scope(app.engine) as session:
        exported = export_holder(session=session, blobs=blob_store(app), document=document,
                                 integrator_id=_integrator_id(app, integrator))
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    (out / "data.json").write_text(json.dumps(exported.record, ensure_ascii=False, indent=2), encoding="utf-8")
    for name, data in exported.files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    console.print(f"{len(exported.record['units'])} unit(s), {len(exported.record['invoices'])} bill(s) written "
                  f"to {out}", highlight=False)


@clients_app.command("erase")
def erase(ctx: typer.Context, document: str = typer.Argument(..., help="The holder's CPF or CNPJ."),
          integrator: str = _INTEGRATOR,
          yes: bool = typer.Option(False, "--yes", help="Do it: without --yes nothing is erased.")) -> None:
    """Erase a holder: units, bills and their PDFs, secrets, saved sessions, artifacts; ledger rows anonymised.

    One audit row is kept (who, when, how much; the document masked). Example: faturas clients erase 52998224725 --yes
    """
    if not yes:
        raise UnitInputError("--yes", "erasing cannot be undone: repeat the command with --yes")
    app = app_context(ctx)
    report = erase_holder(engine=app.engine, blobs=blob_store(app), document=document,
                          actor=f"cli:{getpass.getuser()}", integrator_id=_integrator_id(app, integrator))
    console.print(f"erased {report.units} unit(s), {report.invoices} bill(s), {report.blobs} file(s), "
                  f"{report.sessions} saved session(s); {report.ledger_rows} ledger row(s) anonymised",
                  highlight=False)
