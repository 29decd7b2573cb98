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
import secrets
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console
from rich.table import Table
from sqlmodel import select

from bot.adhesion import AdhesionOptions, adhere_units
from bot.context import AppContext
from bot.embedded_mail import INBOX_USER, EmbeddedMail
from bot.settings import Settings, load_settings
from processor.config import MailAccount, MailSettings, SmtpRelay
from processor.pipeline import Pipeline, poll_once
from simulator.mailer import generate_dkim_key, send_cycle
from simulator.portal.app import create_app
from simulator.portal.client import AdminClient
from simulator.portal.server import BackgroundServer
from simulator.portal.store import Store
from storage.blobs import BlobStore
from storage.engine import session_scope
from storage.mail_models import Invoice
from storage.models import UnitCreate, UnitPublic
from storage.secrets import new_key, write_key_file
from storage.units import create_unit, get_unit

CYCLES = ("2026-10", "2026-11")


@dataclass(frozen=True)
class SampleClient:
    """A client of the integrator: the portal login in the simulator and the unit in faturas."""

    name: str
    document: str
    installation: str
    email: str
    pdf_password: str | None = None


SAMPLES = (
    SampleClient("Maria Aparecida Souza", "52998224725", "3001234567", "maria@cliente.example"),
    SampleClient("Padaria Pão de Minas Ltda", "11444777000161", "3007654321", "financeiro@padaria.example",
                 pdf_password="11444"),
    SampleClient("João Batista Lima", "15350946056", "3002468135", "joao@cliente.example"),
)

_PLAYWRIGHT_CONFIG = """\
[browser]
executable = "auto"
headless = true
args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
[timeouts]
action_ms = 15000
navigation_ms = 30000
operator_challenge_s = 300
[tracing]
policy = "retain-on-failure"
artifacts_dir = "artifacts"
retention_days = 30
[bot]
concurrency = 3
[utilities.cemig]
base_url = "{base_url}"
"""


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


def _settings(data_dir: Path, base_url: str) -> Settings:
    config = data_dir / "playwright.config"
    config.write_text(_PLAYWRIGHT_CONFIG.format(base_url=base_url), encoding="utf-8")
    write_key_file(data_dir / "keys" / "faturas.key", (new_key(),))
    return load_settings({"HOME": str(data_dir), "FATURAS_DATA_DIR": str(data_dir),
                          "FATURAS_PLAYWRIGHT_CONFIG": str(config), "FATURAS_ADHESION_BACKOFF_S": "1",
                          "FATURAS_LOG_LEVEL": "warning"})


def _mail_settings(mail: EmbeddedMail) -> MailSettings:
    return MailSettings(
        accounts=(MailAccount(name="demo", host="127.0.0.1", port=mail.imap_port, tls="none", user=INBOX_USER,
                              password=SecretStr(mail.password)),),
        smtp=SmtpRelay(host="127.0.0.1", port=mail.relay_port),
        from_address="Faturas <faturas@faturas.example.com>", reply_to="suporte@integradora.example",
        dkim_policy="require", lease_seconds=60)


def execute(console: Console, data_dir: Path) -> DemoRun:
    """Run the demo in `data_dir`; returns what happened."""
    started = time.monotonic()
    store = Store(str(data_dir / "simulator.db"))
    admin_token = secrets.token_urlsafe(16)
    dkim = generate_dkim_key()
    with BackgroundServer(create_app(store, admin_token=admin_token)) as portal, \
            EmbeddedMail(data_dir / "clients") as mail, AdminClient(portal.url, admin_token) as admin:
        settings = _settings(data_dir, portal.url)
        app = AppContext(settings=settings.model_copy(update={"mail": _mail_settings(mail)}))
        portal_passwords = {s.document: secrets.token_urlsafe(10) for s in SAMPLES}
        unit_ids = []
        with session_scope(app.engine) as session:
            for sample in SAMPLES:
                admin.add_customer(name=sample.name, document=sample.document, email=sample.email,
                                   password=portal_passwords[sample.document])
                admin.add_installation(sample.document, sample.installation, pdf_password=sample.pdf_password)
                unit = create_unit(session=session, keys=app.keys(), inbox=app.inbox_policy, unit_in=UnitCreate(
                    installation=sample.installation, client_name=sample.name, holder_document=sample.document,
                    portal_login=sample.document, portal_password=portal_passwords[sample.document],
                    forward_to=[sample.email], pdf_password=sample.pdf_password))
                unit_ids.append(unit.id)
        console.print(f"[1/4] {len(unit_ids)} units registered; simulator at {portal.url}")
        outcomes = asyncio.run(adhere_units(app, unit_ids, AdhesionOptions(concurrency=3, attempts=2,
                                                                           backoff_s=1.0)))
        console.print(f"[2/4] adhesion: {sum(not o.failed for o in outcomes)} of {len(outcomes)} enrolled "
                      "in Conta Digital by the bot")
        pipeline = Pipeline(engine=app.engine, settings=app.settings.mail, blobs=BlobStore(data_dir / "blobs"),
                            keys=app.keys(), on_secret=app.redactor.register,
                            dns_txt=lambda name, timeout=5: dkim.dns_txt.encode()
                            if name.decode().rstrip(".") == dkim.record_name else None)
        for cycle in CYCLES:
            sent = send_cycle([p for p in store.enrolled_profiles()], cycle, smtp_host="127.0.0.1",
                              smtp_port=mail.inbound_port, dkim_key=dkim)
            report = poll_once(pipeline)
            console.print(f"[3/4] cycle {cycle}: CEMIG sent {len(sent.sent)} bill(s); faturas processed "
                          f"{sum(report.outcomes.values())} message(s) and forwarded {report.forwarded}")
        rows = _rows(app, unit_ids, mail)
        simulator_report = admin.report()
        report_path = _write_report(data_dir, rows)
        app.close()
    store.close()
    console.print(f"[4/4] report written to {report_path}")
    return DemoRun(data_dir=data_dir, report=report_path, rows=rows, simulator_report=simulator_report,
                   relay_messages=tuple(mail.relay.received), seconds=time.monotonic() - started)


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


def _write_report(data_dir: Path, rows: tuple[DemoRow, ...]) -> Path:
    """A small pt-BR HTML report of what the demo did."""
    lines = "".join(
        f"<tr><td>{r.installation}</td><td>{html.escape(r.client)}</td><td>{r.adhesion}</td><td>{r.bills}</td>"
        f"<td>{' / '.join('R$ ' + a.replace('.', ',') for a in r.amounts)}</td>"
        f"<td>{' / '.join(r.consumption_kwh)}</td><td>{' / '.join(r.compensated_kwh)}</td>"
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


def run_demo(console: Console | None = None, data_dir: Path | None = None) -> DemoRun:
    """The `faturas demo` command: run, then print the summary table."""
    console = console or Console()
    folder = data_dir or Path(tempfile.mkdtemp(prefix="faturas-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    run = execute(console, folder)
    table = Table("unit", "installation", "client", "adhesion", "bills", "amounts (R$)", "consumption (kWh)",
                  "compensated (kWh)", "forwarded to", title="faturas demo")
    for row in run.rows:
        table.add_row(str(row.unit_id), row.installation, row.client, row.adhesion, str(row.bills),
                      " / ".join(row.amounts), " / ".join(row.consumption_kwh), " / ".join(row.compensated_kwh),
                      f"{row.forwarded_to} ({row.forwarded})")
    console.print(table)
    console.print(f"data folder: {run.data_dir}\nreport: {run.report}\nfinished in {run.seconds:.0f} s")
    return run
