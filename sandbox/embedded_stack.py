"""The embedded stack of `faturas demo` and `faturas serve --sandbox`: simulator, mail system, settings.

`EmbeddedStack(data_dir)` starts, on loopback ports, the local CEMIG simulator (portal and admin API,
its database in `data_dir/simulator.db`) and the embedded mail system (`sandbox.embedded_mail`: the bill
inbox, its inbound MX and the clients' relay), and builds faturas settings wired to both: the bot's
CEMIG base URL is the simulator, the service reads the embedded inbox and forwards through the relay.
The simulator's DKIM key is made at start-up; `dns_txt` answers for it where DNS would.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from pydantic import SecretStr

from config.settings import Settings, load_settings
from processor.config import MailAccount, MailSettings, SmtpRelay
from sandbox.embedded_mail import INBOX_USER, EmbeddedMail
from simulator.mailer import CycleReport, generate_dkim_key, send_cycle
from simulator.portal.app import create_app
from simulator.portal.client import AdminClient, AdminError
from simulator.portal.server import BackgroundServer
from simulator.portal.store import Store
from storage.secrets import new_key, write_key_file

MAIL_ACCOUNT = "embedded"
"""The bill inbox's name in the mail ledger."""


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
                 pdf_password="11444"),  # noqa: S106 - a made-up sample client's PDF password
    SampleClient("João Batista Lima", "15350946056", "3002468135", "joao@cliente.example"),
)

PLAYWRIGHT_CONFIG = """\
[browser]
executable = "auto"
headless = true
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

# load_settings reads ./faturas.toml when no file is named: name this one so that a production
# configuration in the working directory can never point the stack at a real database or mailbox.
_CONFIG = "# The embedded stack's settings come from the environment it passes to load_settings.\n"


class EmbeddedStack:
    """The simulator and the embedded mail system in `data_dir`; use as a context manager.

    `environ` adds FATURAS_* values (service intervals, log level…) to the stack's own; nothing is read
    from the process environment or the working directory. Inside the block: `settings`, `portal`
    (`.url`), `admin` (the simulator's admin API), `store`, `mail`, `admin_token` and `dkim`.
    """

    def __init__(self, data_dir: Path, *, environ: Mapping[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.environ = dict(environ or {})
        self.admin_token = secrets.token_urlsafe(16)
        self.dkim = generate_dkim_key()
        self._exit = ExitStack()

    def __enter__(self) -> EmbeddedStack:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.store = self._exit.enter_context(closing(Store(str(self.data_dir / "simulator.db"))))
            self.portal = self._exit.enter_context(
                BackgroundServer(create_app(self.store, admin_token=self.admin_token)))
            self.mail = self._exit.enter_context(EmbeddedMail(self.data_dir / "clients"))
            self.admin = self._exit.enter_context(AdminClient(self.portal.url, self.admin_token))
            self.settings = self._settings()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._exit.close()

    def _settings(self) -> Settings:
        browser_config = self.data_dir / "playwright.config"
        browser_config.write_text(PLAYWRIGHT_CONFIG.format(base_url=self.portal.url), encoding="utf-8")
        config = self.data_dir / "faturas.toml"
        config.write_text(_CONFIG, encoding="utf-8")
        key_file = self.data_dir / "keys" / "faturas.key"
        if not key_file.exists():  # a reused data folder keeps the key its secrets were encrypted with
            write_key_file(key_file, (new_key(),))
        environ = {"HOME": str(self.data_dir), "FATURAS_DATA_DIR": str(self.data_dir),
                   "FATURAS_PLAYWRIGHT_CONFIG": str(browser_config), "FATURAS_LOG_LEVEL": "warning",
                   **self.environ}
        return load_settings(environ, config).model_copy(update={"mail": self.mail_settings()})

    def mail_settings(self) -> MailSettings:
        """The bill inbox, the relay and DKIM policy `require` (the simulator signs its bills)."""
        return MailSettings(
            accounts=(MailAccount(name=MAIL_ACCOUNT, host="127.0.0.1", port=self.mail.imap_port, tls="none",
                                  user=INBOX_USER, password=SecretStr(self.mail.password)),),
            smtp=SmtpRelay(host="127.0.0.1", port=self.mail.relay_port),
            from_address="Faturas <faturas@faturas.example.com>", reply_to="suporte@integradora.example",
            dkim_policy="require", lease_seconds=60)

    def dns_txt(self, name: bytes, timeout: float = 5) -> bytes | None:
        """DKIM key lookup in place of DNS: the simulator's key record, nothing else."""
        return self.dkim.dns_txt.encode() if name.decode().rstrip(".") == self.dkim.record_name else None

    def add_client(self, sample: SampleClient, password: str) -> None:
        """Make the sample's portal login (its CPF/CNPJ) and installation exist in the simulator.

        A login kept from an earlier run in the same data folder gets `password`; an existing
        installation is left as it is (enrolled or not).
        """
        try:
            self.admin.add_customer(name=sample.name, document=sample.document, email=sample.email,
                                    password=password)
        except AdminError as exc:
            if exc.status != 409:  # 409: the login exists already
                raise
            self.admin.update_customer(sample.document, password=password, locked=False)
        try:
            self.admin.installation(sample.installation)
        except AdminError as exc:
            if exc.status != 404:
                raise
            self.admin.add_installation(sample.document, sample.installation, pdf_password=sample.pdf_password)

    def add_clients(self, samples: Iterable[SampleClient]) -> dict[str, str]:
        """`add_client` for each sample with a new random portal password; returns them by document."""
        passwords = {}
        for sample in samples:
            passwords[sample.document] = secrets.token_urlsafe(10)
            self.add_client(sample, passwords[sample.document])
        return passwords

    def bill(self, cycle: str) -> CycleReport:
        """The simulator's billing cycle: every enrolled installation's bill, DKIM-signed, to the bill inbox.

        Raises BillMailerError when the inbound MX refuses the session, ValueError for a malformed cycle.
        """
        return send_cycle(self.store.enrolled_profiles(), cycle, smtp_host="127.0.0.1",
                          smtp_port=self.mail.inbound_port, dkim_key=self.dkim)
