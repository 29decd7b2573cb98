"""`faturas serve --sandbox`: the dashboard, the service, the simulator and the embedded mail system together.

A newcomer's first minute, on one machine and without configuration: `EmbeddedStack` starts the local
CEMIG simulator and the embedded mail system in a data folder (a new temporary one unless given); the
sandbox creates a dashboard login with a generated password and three sample clients in the simulator,
runs the service (`service.scheduler.Service`) in this process with short intervals, IMAP IDLE on the bill
inbox and the simulator's DKIM key, and serves the dashboard with the sandbox-only controls
(`web.sandbox`): "Gerar faturas do mês (simulador)", the sample clients on "Nova unidade" and
"Caixa do cliente (sandbox)" on the unit page. "Aderir automaticamente" hands the unit to the service,
whose bot enrols it at the simulator; a billing cycle e-mails DKIM-signed bills into the bill inbox,
the service reads, stores and forwards them through the relay into the client's mailbox.

Everything printed goes to stdout (English); SIGINT and SIGTERM stop the web server, then the service
(bounded by its shutdown timeout), then the simulator and the mail servers.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import os
import secrets
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy import Engine, func
from sqlmodel import select

from config.context import AppContext
from config.logs import RedactSecrets
from sandbox.embedded_stack import SAMPLES, EmbeddedStack
from service.scheduler import Service
from simulator.portal.client import AdminError
from simulator.portal.server import BackgroundServer
from storage.engine import session_scope
from storage.integrators import IntegratorNotFound, get_integrator
from storage.mail_models import Invoice
from storage.models import UnitCreate
from web.app import create_app
from web.sandbox import BillingRun, ClientMessage, SampleLogin
from web.services.accounts import add_user, set_password
from web.services.adhesion import ServiceAdhesionRunner

log = structlog.get_logger(__name__)

SANDBOX_LOGIN = "sandbox@integradora.example"
"""The dashboard login the sandbox creates (its password is generated at every start)."""

# Short intervals: a newcomer watches the page. IMAP IDLE starts a mail pass as soon as a bill arrives;
# the poll is the safety net. A click on "Aderir automaticamente" wakes the adhesion job at once.
SANDBOX_ENVIRON = {
    "FATURAS_MAIL_POLL_INTERVAL_S": "10",
    "FATURAS_OUTBOX_INTERVAL_S": "10",
    "FATURAS_ADHESION_INTERVAL_S": "60",
    "FATURAS_ADHESION_BACKOFF_S": "1",
    "FATURAS_ADHESION_RETRY_SCHEDULE": "30s,2m,10m",
    "FATURAS_SHUTDOWN_TIMEOUT_S": "15",
    "FATURAS_MAIL_IDLE": "true",
}
MAX_CLIENT_MESSAGES = 20


def _month_after(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year + number // 12}-{number % 12 + 1:02d}"


@dataclass
class SandboxControls:
    """The embedded stack behind the dashboard's sandbox-only controls (`web.sandbox.Sandbox`)."""

    stack: EmbeddedStack
    engine: Engine
    logins: list[SampleLogin]
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_cycle: str | None = None

    @property
    def simulator_url(self) -> str:
        """The simulated Agência Virtual."""
        return self.stack.portal.url

    def samples(self) -> list[SampleLogin]:
        """The sample clients created at start-up."""
        return list(self.logins)

    def next_cycle(self) -> str:
        """The month to bill: the current one at first, then the month after the newest bill billed or stored."""
        candidates = [datetime.now(UTC).strftime("%Y-%m")]
        if self._last_cycle is not None:
            candidates.append(_month_after(self._last_cycle))
        with session_scope(self.engine) as session:
            newest = session.exec(select(func.max(Invoice.reference_month))).one()
        if newest:
            candidates.append(_month_after(newest))
        return max(candidates)

    def run_billing_cycle(self) -> BillingRun:
        """Bill the next month for every installation enrolled in the simulator; the bills go out by e-mail."""
        with self._lock:
            cycle = self.next_cycle()
            report = self.stack.bill(cycle)
            if report.sent:  # a cycle that reached nobody is billed again once someone is enrolled
                self._last_cycle = cycle
        log.info("sandbox_cycle_billed", cycle=cycle, sent=len(report.sent), failed=len(report.failed))
        return BillingRun(cycle=cycle, sent=len(report.sent), failed=len(report.failed))

    def client_messages(self, addresses: list[str]) -> list[ClientMessage]:
        """What the relay delivered to these addresses (the clients' mailboxes), newest first."""
        found = []
        for address in addresses:
            for raw in self.stack.mail.relay.messages(address):
                message = email.message_from_bytes(raw, policy=email.policy.default)
                try:
                    received = email.utils.parsedate_to_datetime(str(message["Date"]))
                except (TypeError, ValueError):
                    received = None
                attachments = tuple(part.get_filename() or part.get_content_type()
                                    for part in message.iter_attachments())  # type: ignore[attr-defined]
                found.append(ClientMessage(recipient=address, subject=str(message["Subject"] or ""),
                                           received_at=received, attachments=attachments))
        found.sort(key=lambda m: m.received_at.timestamp() if m.received_at else 0.0, reverse=True)
        return found[:MAX_CLIENT_MESSAGES]

    def unit_added(self, unit_in: UnitCreate) -> bool:
        """Create the unit's portal login and installation in the simulator when the installation is unknown.

        A login that exists already keeps its password (a wrong one ends as invalid credentials, as at
        CEMIG). Nothing is created without an installation number, a portal login and its password.
        """
        if not (unit_in.installation and unit_in.portal_login and unit_in.portal_password):
            return False
        admin = self.stack.admin
        login = unit_in.portal_login
        try:
            with self._lock:
                try:
                    admin.installation(unit_in.installation)
                    return False
                except AdminError as exc:
                    if exc.status != 404:
                        raise
                try:
                    admin.customer(login)
                except AdminError as exc:
                    if exc.status != 404:
                        raise
                    by_email = "@" in login
                    admin.add_customer(name=unit_in.client_name, password=unit_in.portal_password,
                                       document=None if by_email else login, email=login if by_email else None)
                admin.add_installation(login, unit_in.installation, holder_name=unit_in.client_name,
                                       holder_document=unit_in.holder_document, pdf_password=unit_in.pdf_password)
        except AdminError as exc:  # the unit stays registered; the bot will say what the portal lacks
            log.warning("sandbox_client_not_created", installation=unit_in.installation, error=str(exc))
            return False
        log.info("sandbox_client_created", installation=unit_in.installation)
        return True


def _dashboard_user(app: AppContext) -> str:
    """Create the sandbox's dashboard login, or give it a new password in a reused data folder."""
    password = secrets.token_urlsafe(12)
    app.redactor.register(password)
    with session_scope(app.engine) as session:
        try:
            set_password(session=session, integrator=get_integrator(session=session, email=SANDBOX_LOGIN),
                         password=password)
        except IntegratorNotFound:
            add_user(session=session, email=SANDBOX_LOGIN, password=password, name="Integradora (sandbox)")
    return password


def _sample_logins(stack: EmbeddedStack, redactor: RedactSecrets) -> list[SampleLogin]:
    passwords = stack.add_clients(SAMPLES)
    for password in passwords.values():
        redactor.register(password)
    return [SampleLogin(client_name=s.name, holder_document=s.document, installation=s.installation,
                        portal_login=s.document, portal_password=passwords[s.document], forward_to=s.email,
                        pdf_password=s.pdf_password) for s in SAMPLES]


def banner(*, dashboard: str, password: str, stack: EmbeddedStack, logins: list[SampleLogin]) -> str:
    """What the sandbox prints once it serves: where to go, how to log in, what to type."""
    lines = [
        "faturas sandbox is running (Ctrl-C to stop)",
        "",
        f"  dashboard:        {dashboard}/",
        f"  login:            {SANDBOX_LOGIN}",
        f"  password:         {password}",
        f"  CEMIG simulator:  {stack.portal.url}/",
        f"  simulator admin:  {stack.portal.url}/_admin (bearer token {stack.admin_token})",
        f"  data folder:      {stack.data_dir}",
        f"  client mailboxes: {stack.mail.clients_dir}",
        "",
        "Sample clients in the simulator (type one into \"Nova unidade\", or pick it there):",
    ]
    for login in logins:
        lines.append(f"  - {login.client_name} | holder document {login.holder_document} | installation "
                     f"{login.installation} | portal login {login.portal_login} | portal password "
                     f"{login.portal_password} | PDF password {login.pdf_password or '-'} | client e-mail "
                     f"{login.forward_to}")
    lines += [
        "",
        "Then: open the unit, press \"Aderir automaticamente\" (the bot enrols it at the simulator), press",
        "\"Gerar faturas do mês (simulador)\" and watch the bill arrive under \"Faturas\" and in",
        "\"Caixa do cliente (sandbox)\".",
    ]
    return "\n".join(lines)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` (only the main thread may install handlers); restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_sandbox(*, host: str, port: int, data_dir: Path | None, redactor: RedactSecrets,
                echo: Callable[[str], None], stop: threading.Event | None = None) -> int:
    """Run the sandbox until SIGINT/SIGTERM (or `stop` is set); returns the exit code.

    `port` 0 picks a free port. The data folder is a new temporary one unless `data_dir` is given; a
    reused folder keeps its units and bills, and gets a new dashboard password.
    """
    stop = stop or threading.Event()
    folder = data_dir or Path(tempfile.mkdtemp(prefix="faturas-sandbox-"))
    with _stop_on_signals(stop), EmbeddedStack(folder, environ=SANDBOX_ENVIRON) as stack:
        app = AppContext(settings=stack.settings, redactor=redactor)
        try:
            password = _dashboard_user(app)
            logins = _sample_logins(stack, redactor)
            service = Service(app, dns_txt=stack.dns_txt)
            service.start()
            try:
                controls = SandboxControls(stack=stack, engine=app.engine, logins=logins)
                web_app = create_app(app, runner=ServiceAdhesionRunner(app, wake=service.adhere_now),
                                     sandbox=controls)
                with BackgroundServer(web_app, host=host, port=port) as server:
                    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - only displayed
                    echo(banner(dashboard=f"http://{shown}:{server.port}", password=password, stack=stack,
                                logins=logins))
                    stop.wait()
                    echo("stopping the sandbox…")
            finally:
                finished = service.shutdown()
        finally:
            app.close()
    echo("sandbox stopped")
    if not finished:
        # A job overran the shutdown bound (a browser mid-flow): its threads would keep the interpreter
        # alive; everything else is closed, and the unit resumes on the next start (flows are idempotent).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0
