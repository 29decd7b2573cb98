"""`faturas demo`: the whole product on embedded defaults, in a temporary data folder, in about a minute.

It starts the local CEMIG simulator and an embedded mail system (pymap + aiosmtpd), registers three
sample units whose clients exist in the simulator, enrols them with the browser bot in headless
Chromium, runs two billing cycles (one unit's PDFs are password-protected and its password is
registered), processes the bill inbox, forwards each bill to its client, and prints a summary and the
path of an HTML report. Nothing outside the temporary folder is touched.
"""

from __future__ import annotations

import asyncio
import html
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlmodel import select

from bot.adhesion import AdhesionOptions, adhere_units
from config.context import AppContext
from processor.pipeline import Pipeline, poll_once
from reports.format import brl, kwh
from sandbox.embedded_mail import EmbeddedMail
from sandbox.embedded_stack import SAMPLES, EmbeddedStack
from storage.blobs import BlobStore
from storage.engine import session_scope
from storage.mail_models import Invoice
from storage.models import UnitCreate, UnitPublic
from storage.units import create_unit, get_unit

CYCLES = ("2026-10", "2026-11")
__all__ = ["CYCLES", "SAMPLES", "DemoRow", "DemoRun", "execute", "run_demo"]


@dataclass(frozen=True)
class DemoRow:
    """One line of the summary."""

    unit_id: int
    installation: str
    client: str
    adhesion: str
    bills: int
    amounts: tuple[str, ...]
    consumption_kwh: tuple[str, ...]
    compensated_kwh: tuple[str, ...]
    forwarded_to: str
    forwarded: int


@dataclass(frozen=True)
class DemoRun:
    """What the demo did, for the summary and for the test that checks it against the servers' state."""

    data_dir: Path
    report: Path
    rows: tuple[DemoRow, ...]
    simulator_report: dict
    relay_messages: tuple[tuple[str, bytes], ...]
    seconds: float

    @property
    def complete(self) -> bool:
        """Every unit ended enrolled with every cycle's bill stored and forwarded (the demo's exit status)."""
        return all(r.adhesion in ("enrolled", "verified") and r.bills == len(CYCLES) and r.forwarded == len(CYCLES)
                   for r in self.rows)


def execute(console: Console, data_dir: Path) -> DemoRun:
    """Run the demo in `data_dir`; returns what happened."""
    started = time.monotonic()
    with EmbeddedStack(data_dir, environ={"FATURAS_ADHESION_BACKOFF_S": "1"}) as stack:
        app = AppContext(settings=stack.settings)
        portal_passwords = stack.add_clients(SAMPLES)
        unit_ids: list[int] = []
        with session_scope(app.engine) as session:
            for sample in SAMPLES:
                unit = create_unit(session=session, keys=app.keys(), inbox=app.inbox_policy, unit_in=UnitCreate(
                    installation=sample.installation, client_name=sample.name, holder_document=sample.document,
                    portal_login=sample.document, portal_password=portal_passwords[sample.document],
                    forward_to=[sample.email], pdf_password=sample.pdf_password))
                assert unit.id is not None  # noqa: S101 - stored
                unit_ids.append(unit.id)
        console.print(f"[1/4] {len(unit_ids)} units registered; simulator at {stack.portal.url}")
        outcomes = asyncio.run(adhere_units(app, unit_ids, AdhesionOptions(concurrency=3, attempts=2,
                                                                           backoff_s=1.0)))
        console.print(f"[2/4] adhesion: {sum(not o.failed for o in outcomes)} of {len(outcomes)} enrolled "
                      "in Conta Digital by the bot")
        pipeline = Pipeline(engine=app.engine, settings=app.settings.mail, blobs=BlobStore(data_dir / "blobs"),
                            keys=app.keys(), on_secret=app.redactor.register, dns_txt=stack.dns_txt)
        for cycle in CYCLES:
            sent = stack.bill(cycle)
            report = poll_once(pipeline)
            console.print(f"[3/4] cycle {cycle}: CEMIG sent {len(sent.sent)} bill(s); faturas processed "
                          f"{sum(report.outcomes.values())} message(s) and forwarded {report.forwarded}")
        rows = _rows(app, unit_ids, stack.mail)
        simulator_report = stack.admin.report()
        report_path = _write_report(data_dir, rows)
        relay_messages = tuple(stack.mail.relay.received)
        app.close()
    console.print(f"[4/4] report written to {report_path}")
    return DemoRun(data_dir=data_dir, report=report_path, rows=rows, simulator_report=simulator_report,
                   relay_messages=relay_messages, seconds=time.monotonic() - started)


def _plain(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _rows(app: AppContext, unit_ids: list[int], mail: EmbeddedMail) -> tuple[DemoRow, ...]:
    rows = []
    with session_scope(app.engine) as session:
        for unit_id in unit_ids:
            unit = UnitPublic.from_unit(get_unit(session=session, ref=unit_id))
            invoices = session.exec(select(Invoice).where(Invoice.unit_id == unit_id,
                                                          Invoice.superseded_by_id.is_(None))  # type: ignore[union-attr]
                                    .order_by(Invoice.reference_month)).all()
            forwarded = sum(1 for rcpt, _ in mail.relay.received if rcpt in unit.forward_to)
            rows.append(DemoRow(
                unit_id=unit.id, installation=unit.installation or unit.uc_code or "", client=unit.client_name,
                adhesion=unit.adhesion_status, bills=len(invoices),
                amounts=tuple(_plain(i.amount_due) for i in invoices),
                consumption_kwh=tuple(_plain(i.consumption_kwh) for i in invoices),
                compensated_kwh=tuple(_plain(i.compensated_kwh) for i in invoices),
                forwarded_to=", ".join(unit.forward_to), forwarded=forwarded))
    return tuple(rows)


def _money(plain: str) -> str:
    return brl(None if plain == "-" else Decimal(plain))


def _energy(plain: str) -> str:
    return kwh(None if plain == "-" else Decimal(plain))


def _write_report(data_dir: Path, rows: tuple[DemoRow, ...]) -> Path:
    """A small pt-BR HTML report of what the demo did."""
    lines = "".join(
        f"<tr><td>{r.installation}</td><td>{html.escape(r.client)}</td><td>{r.adhesion}</td><td>{r.bills}</td>"
        f"<td>{' / '.join(_money(a) for a in r.amounts)}</td>"
        f"<td>{' / '.join(_energy(v) for v in r.consumption_kwh)}</td>"
        f"<td>{' / '.join(_energy(v) for v in r.compensated_kwh)}</td>"
        f"<td>{html.escape(r.forwarded_to)} ({r.forwarded})</td></tr>" for r in rows)
    path = data_dir / "relatorio.html"
    path.write_text(
        "<!doctype html><html lang='pt-BR'><meta charset='utf-8'><title>faturas — demonstração</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:.4em}"
        "table{border-collapse:collapse}</style><h1>Demonstração do faturas</h1>"
        f"<p>Ciclos de faturamento: {', '.join(CYCLES)}.</p><table><tr><th>Instalação</th><th>Cliente</th>"
        "<th>Adesão</th><th>Faturas</th><th>Valores</th><th>Consumo (kWh)</th><th>Energia compensada (kWh)</th>"
        f"<th>Encaminhadas para</th></tr>{lines}</table></html>", encoding="utf-8")
    return path


SUMMARY_FIELDS = ("unit", "installation", "client", "adhesion", "bills", "amounts (R$)", "consumption (kWh)",
                  "compensated (kWh)", "forwarded to")


def _summary_values(row: DemoRow) -> tuple[str, ...]:
    return (str(row.unit_id), row.installation, row.client, row.adhesion, str(row.bills), " / ".join(row.amounts),
            " / ".join(row.consumption_kwh), " / ".join(row.compensated_kwh), f"{row.forwarded_to} ({row.forwarded})")


def print_summary(console: Console, rows: tuple[DemoRow, ...]) -> None:
    """A table on a terminal; elsewhere (a log, a pipe) one `field: value` line each, so nothing is cut."""
    if console.is_terminal:
        table = Table(*SUMMARY_FIELDS, title="faturas demo")
        for row in rows:
            table.add_row(*_summary_values(row))
        console.print(table)
        return
    console.print("faturas demo", highlight=False)
    for row in rows:
        for name, value in zip(SUMMARY_FIELDS, _summary_values(row), strict=True):
            console.print(f"  {name}: {value}", highlight=False, markup=False, soft_wrap=True)
        console.print("")


def run_demo(console: Console | None = None, data_dir: Path | None = None) -> DemoRun:
    """The `faturas demo` command: run, then print the summary table."""
    console = console or Console()
    folder = data_dir or Path(tempfile.mkdtemp(prefix="faturas-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    run = execute(console, folder)
    print_summary(console, run.rows)
    console.print(f"data folder: {run.data_dir}\nreport: {run.report}\nfinished in {run.seconds:.0f} s")
    return run
