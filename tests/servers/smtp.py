"""A real SMTP server for tests (aiosmtpd in a thread) that records what it accepted.

`refuse` maps a recipient to an SMTP reply ("550 5.1.1 no such user") to test parking and retries;
`stop()`/`start()` take the server down and back on the same port (the outbox must wait, then send once).
Accepted messages are also appended to `spool` (a JSON-lines file) so a test can count deliveries made
by child processes that were killed. With `check_token` it demands AUTH XOAUTH2 (tests of OAuth relays).
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.servers.dovecot import free_port


@dataclass(frozen=True)
class Received:
    """One accepted message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)  # type: ignore[return-value]


def _header(head: str, name: str) -> str | None:
    """One header of an unparsed head (cheap: the spool only needs two ASCII headers)."""
    match = re.search(rf"^{re.escape(name)}:[ \t]*(.*(?:\r\n[ \t].*)*)", head, re.IGNORECASE | re.MULTILINE)
    return " ".join(match.group(1).split()) if match else None


@dataclass
class _Handler:
    server: SmtpServer

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, N802
        reply = self.server.refuse.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        received = Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.original_content))
        with self.server.lock:
            self.server.messages.append(received)
            if self.server.spool is not None:
                head = received.content.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
                with open(self.server.spool, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps({"rcpt": list(received.rcpt_tos),
                                             "message_id": _header(head, "Message-ID"),
                                             "invoice": _header(head, "X-Faturas-Invoice")}) + "\n")
        return "250 2.0.0 accepted"


@dataclass
class _OAuthHandler(_Handler):
    """Takes AUTH XOAUTH2 only; `server.check_token(user, token)` says whether the bearer token is good."""

    async def auth_XOAUTH2(self, server, args):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook naming
        if len(args) < 2:
            return AuthResult(success=False, handled=False)
        text = base64.b64decode(args[1]).decode("utf-8", "replace")
        fields = dict(part.split("=", 1) for part in text.split("\x01") if "=" in part)
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        with self.server.lock:
            self.server.auth_attempts.append(user)
        assert self.server.check_token is not None
        return AuthResult(success=self.server.check_token(user, token), handled=False, auth_data=user)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: ANN001, N802
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        return "250 OK"


@dataclass
class SmtpServer:
    """An aiosmtpd server on a loopback port; `messages` lists what it accepted."""

    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    refuse: dict[str, str] = field(default_factory=dict)
    messages: list[Received] = field(default_factory=list)
    spool: Path | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    check_token: Callable[[str, str], bool] | None = None
    """When set, the server requires AUTH XOAUTH2 (over plain TCP: loopback only) and asks this for each token."""
    auth_attempts: list[str] = field(default_factory=list)
    _controller: Controller | None = None

    def start(self) -> SmtpServer:
        if self.check_token is not None:
            self._controller = Controller(_OAuthHandler(self), hostname=self.host, port=self.port, ready_timeout=10,
                                          auth_require_tls=False, auth_exclude_mechanism=["LOGIN", "PLAIN"])
            self._controller.start()
            return self
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port, ready_timeout=10)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
        self.refuse.clear()
        if self.spool is not None and self.spool.exists():
            self.spool.unlink()

    def spooled(self) -> list[dict]:
        """Every delivery recorded in the spool file."""
        if self.spool is None or not self.spool.exists():
            return []
        return [json.loads(line) for line in self.spool.read_text(encoding="utf-8").splitlines() if line]
