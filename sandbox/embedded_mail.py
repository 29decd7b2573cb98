"""A pure-Python mail system for the demo and the sandbox: pymap (IMAP) fed by aiosmtpd, plus a relay.

Production uses a real mailbox and SMTP relay; tests use Dovecot. This exists so a newcomer can see the
whole product work on a fresh machine without configuring mail:

- the *bill inbox*: one pymap account (a catch-all for every unit's address) on a loopback port;
- an *inbound MX* (aiosmtpd) that stores every message it accepts in that inbox, adding
  `Delivered-To` like a real MTA, so the utility's bill e-mails land where the pipeline reads them;
- a *client relay* (aiosmtpd) that receives the forwarded bills and keeps each in the recipient's
  folder under `clients/`, standing in for the clients' own mailboxes.
"""

from __future__ import annotations

import imaplib
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from aiosmtpd.controller import Controller

INBOX_USER = "faturas"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class _InboundHandler:
    """Appends each accepted message to the catch-all IMAP inbox."""

    imap_port: int
    password: str

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's hook
        content = envelope.original_content or b""
        delivered = "".join(f"Delivered-To: {rcpt}\r\n" for rcpt in envelope.rcpt_tos).encode()
        imap = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        try:
            imap.login(INBOX_USER, self.password)
            imap.append("INBOX", None, None, delivered + content)
        finally:
            imap.logout()
        return "250 OK: delivered to the bill inbox"


@dataclass
class _RelayHandler:
    """Keeps every forwarded message in `root/<recipient>/`."""

    root: Path
    received: list[tuple[str, bytes]] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: ANN001, N802
        # The address names a folder: nothing that could leave `root`.
        if "/" in address or "\\" in address or address.startswith(".") or "@" not in address:
            return "550 not a mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's hook
        content = envelope.original_content or b""
        for rcpt in envelope.rcpt_tos:
            folder = self.root / rcpt.lower()
            folder.mkdir(parents=True, exist_ok=True)
            # Unique across runs in a reused folder, in arrival order; renamed into place so that a
            # reader (the sandbox's "Caixa do cliente") never sees half a message.
            name = f"{time.time_ns():020d}-{len(self.received) + 1:05d}.eml"
            partial = folder / f".{name}.part"
            partial.write_bytes(content)
            partial.replace(folder / name)
            self.received.append((rcpt.lower(), content))
        return "250 OK: delivered to the client's mailbox"

    def messages(self, address: str) -> list[bytes]:
        """What the relay kept for `address` in this folder, oldest first (earlier runs included)."""
        folder = self.root / address.strip().lower()
        if "/" in address or address.startswith(".") or not folder.is_dir():
            return []
        return [path.read_bytes() for path in sorted(folder.glob("*.eml"))]


class EmbeddedMail:
    """Starts pymap and the two SMTP servers; use as a context manager."""

    def __init__(self, clients_dir: Path) -> None:
        self.password = secrets.token_urlsafe(12)
        self.imap_port = free_port()
        self.clients_dir = clients_dir
        self.relay = _RelayHandler(clients_dir)
        self._pymap: subprocess.Popen[bytes] | None = None
        self._inbound: Controller | None = None
        self._relay: Controller | None = None

    @property
    def inbound_port(self) -> int:
        """The MX port the utility's mailer sends bills to."""
        assert self._inbound is not None  # noqa: S101 - started
        return int(self._inbound.port)

    @property
    def relay_port(self) -> int:
        """The SMTP relay port faturas forwards bills through."""
        assert self._relay is not None  # noqa: S101 - started
        return int(self._relay.port)

    def __enter__(self) -> EmbeddedMail:
        self._start_imap()
        self._inbound = Controller(_InboundHandler(self.imap_port, self.password), hostname="127.0.0.1",
                                   port=free_port())
        self._inbound.start()
        self._relay = Controller(self.relay, hostname="127.0.0.1", port=free_port())
        self._relay.start()
        return self

    def _start_imap(self, attempts: int = 3) -> None:
        """Start pymap on a free port; on another port when it exits at once (the port was taken meanwhile).

        A port found free can be taken by any process before pymap binds it, so an early exit is tried
        again on a new port; the last attempt's error output goes in the exception.
        """
        for attempt in range(1, attempts + 1):
            with tempfile.TemporaryFile() as errors:
                self._pymap = subprocess.Popen(
                    [sys.executable, "-c", "from pymap.main import main; main()", "--host", "127.0.0.1",
                     "--port", str(self.imap_port), "--no-tls", "dict", "--demo-user", INBOX_USER,
                     "--demo-password", self.password],
                    stdout=subprocess.DEVNULL, stderr=errors)
                if self._wait_for_imap():
                    return
                errors.seek(0)
                output = errors.read().decode(errors="replace").strip()[-2000:]
            if attempt == attempts:
                raise RuntimeError(f"the embedded IMAP server (pymap) exited at start-up, {attempts} times on "
                                   f"different ports; its last output: {output or '(none)'}")
            self.imap_port = free_port()

    def _wait_for_imap(self) -> bool:
        """True once pymap answers on its port, False when it exited first."""
        assert self._pymap is not None  # noqa: S101 - started
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._pymap.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.imap_port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.1)  # a subprocess's port: polling is the only way to see it open
        raise RuntimeError("the embedded IMAP server (pymap) did not start within 20 s")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for controller in (self._relay, self._inbound):
            if controller is not None:
                controller.stop()
        if self._pymap is not None:
            self._pymap.terminate()
            try:
                self._pymap.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._pymap.kill()
