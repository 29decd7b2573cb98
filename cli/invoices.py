"""`faturas invoices …`: read bill PDFs (parse), add earlier bills of a unit (import), export a golden pair."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from cli.support import EXIT_FAILED, EXIT_INPUT, EXIT_NOT_FOUND, app_context, err_console, read_secret
from config.wiring import build_pipeline
from processor.errors import BillRejected
from processor.fixture import golden_pair
from processor.review import bill_text
from processor.uploads import import_files, parse_file
from storage.engine import session_scope
from storage.mail_models import Invoice
from storage.models import Unit

invoices_app = typer.Typer(help="Bills (faturas): parse PDFs, import earlier bills of a unit.", no_args_is_help=True)
console = Console()

_FILES = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                        help="Bill PDF files, or JPEG/PNG scans and photos (read by OCR).")


@invoices_app.command("parse")
def parse(files: list[Path] = _FILES,
          as_json: bool = typer.Option(False, "--json", help="Print a JSON array, one object per file, in order."),
          utility: str = typer.Option("cemig", "--utility", help="Which utility's parser to use."),
          pdf_password_file: Path = typer.Option(None, "--pdf-password-file",
                                                 help="Password for encrypted PDFs, read from this file (- = stdin)."),
          ) -> None:
    """Read bill PDFs into the bill schema; exit 1 when any file could not be read.

    Example: faturas invoices parse --json conta-2026-10.pdf conta-2026-11.pdf
    """
    password = read_secret(file=pdf_password_file, ask=False, label="pdf_password")
    results: list[dict] = []
    for path in files:
        try:
            bill = parse_file(path, utility=utility, passwords=(password,) if password else ())
            results.append(bill.model_dump(mode="json"))
        except BillRejected as exc:
            results.append({"file": str(path), "error": str(exc), "error_type": type(exc).__name__,
                            "stage": exc.stage.value})
    if as_json:
        typer.echo(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        table = Table("file", "month", "installation", "amount", "due", "checks")
        for path, result in zip(files, results, strict=True):
            if "error" in result:
                table.add_row(path.name, "-", "-", "-", "-", f"error: {result['error']}")
            else:
                failed = [name for name, ok in result["checks"].items() if not ok]
                table.add_row(path.name, result["reference_month"] or "-", result["installation"] or "-",
                              result["amount_due"] or "-", result["due_date"] or "-",
                              "all passed" if not failed else "failed: " + ", ".join(failed))
        console.print(table)
    if any("error" in r for r in results):
        raise typer.Exit(EXIT_FAILED)


@invoices_app.command("import")
def import_(ctx: typer.Context, files: list[Path] = _FILES,
            unit: str = typer.Option(..., "--unit", help="Unit id, installation or UC code."),
            forward: bool = typer.Option(False, "--forward", help="Also forward the bills to the client."),
            as_json: bool = typer.Option(False, "--json", help="Print the results as JSON.")) -> None:
    """Add earlier bills of a unit (from before the adhesion) through the same unlock/parse/store path.

    Example: faturas invoices import --unit 3000055479 conta-2026-01.pdf conta-2026-02.pdf
    """
    app = app_context(ctx)
    results = import_files(build_pipeline(app), unit_ref=unit, paths=list(files), forward=forward)
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in results], ensure_ascii=False, indent=2))
    else:
        table = Table("file", "month", "outcome", "status", "invoice")
        for r in results:
            table.add_row(Path(r.file).name, r.reference_month or "-", r.outcome,
                          r.status or (r.error or "-"), str(r.invoice_id or "-"))
        console.print(table)
    if any(r.outcome == "failed" for r in results):
        raise typer.Exit(EXIT_FAILED)


@invoices_app.command("export-fixture")
def export_fixture(ctx: typer.Context, invoice_id: int = typer.Argument(..., help="The bill's id (dashboard URL)."),
                   out: Path = typer.Option(Path("."), "--out", file_okay=False, help="Folder to write the pair to."),
                   ) -> None:
    """Write a reviewed bill as a golden-test pair: its text with personal data masked, and its fields.

    Writes `review-ID-MM-YYYY.txt` and `review-ID-MM-YYYY.expected.json`; add both to
    tests/processor/parse/golden/ to teach the parser the bill's layout (tests/processor/parse/test_text_golden.py).
    Names, CPF/CNPJ, addresses, barcodes, the automatic-debit code and PIX payloads are masked.

    Example: faturas invoices export-fixture 42 --out tests/processor/parse/golden
    """
    app = app_context(ctx)
    with session_scope(app.engine) as session:
        invoice = session.get(Invoice, invoice_id)
        unit = session.get(Unit, invoice.unit_id) if invoice is not None else None
        if invoice is None or unit is None:
            err_console.print(f"error: no invoice {invoice_id}")
            raise typer.Exit(EXIT_NOT_FOUND)
        if invoice.status != "parsed":
            err_console.print(f"error: invoice {invoice_id} is {invoice.status}: confirm its fields on the review "
                              f"screen first (/faturas/{invoice_id}/revisao)")
            raise typer.Exit(EXIT_INPUT)
        text = bill_text(pipeline=build_pipeline(app), unit=unit, invoice=invoice)
        masked, expected = golden_pair(text, invoice.data, names=(unit.client_name,), document=unit.holder_document)
        month = invoice.reference_month
    stem = f"review-{invoice_id}-{month[5:]}-{month[:4]}"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.txt").write_text(masked, encoding="utf-8")
    (out / f"{stem}.expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n",
                                               encoding="utf-8")
    typer.echo(f"{out / stem}.txt")
    typer.echo(f"{out / stem}.expected.json")
