"""Fixtures for the mail pipeline: a real Dovecot and a real SMTP server per session, a pipeline per test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from processor.config import MailAccount, MailSettings, SmtpRelay
from processor.pipeline import PassReport, Pipeline, poll_once
from storage.blobs import BlobStore
from storage.engine import session_scope
from storage.models import UnitCreate
from storage.secrets import KeyRing, new_key
from storage.units import InboxPolicy, create_unit
from tests.factories import unit_in
from tests.processor.mime import cemig_key, dns_for
from tests.servers.dovecot import Dovecot
from tests.servers.smtp import SmtpServer

USER, PASSWORD = "bills", "bills-secret-1"
INBOX_POLICY = InboxPolicy(pattern="uc-{installation}-{token}", domain="faturas.example.com")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot.start({USER: PASSWORD, "other": "other-secret-2"})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_server(tmp_path_factory) -> Iterator[SmtpServer]:
    server = SmtpServer(spool=tmp_path_factory.mktemp("smtp") / "spool.jsonl").start()
    yield server
    server.stop()


@pytest.fixture
def mail(dovecot: Dovecot, smtp_server: SmtpServer) -> Iterator[tuple[Dovecot, SmtpServer]]:
    """Both servers, emptied before the test."""
    dovecot.reset()
    smtp_server.clear()
    if smtp_server._controller is None:
        smtp_server.start()
    yield dovecot, smtp_server


def mail_settings(dovecot: Dovecot, smtp: SmtpServer, **overrides) -> MailSettings:
    account = MailAccount(name="main", host=dovecot.host, port=dovecot.imap_port, tls="none", user=USER,
                          password=SecretStr(PASSWORD), timeout=30)
    values = dict(accounts=(account,), smtp=SmtpRelay(host=smtp.host, port=smtp.port, timeout=10),
                  from_address="Faturas <faturas@faturas.example.com>", reply_to="suporte@integradora.example.com",
                  dkim_policy="require", forward_backoff_seconds=0)
    values.update(overrides)
    return MailSettings(**values)


@dataclass
class World:
    """A test's pipeline against the session's Dovecot and SMTP server."""

    engine: object
    dovecot: Dovecot
    smtp: SmtpServer
    settings: MailSettings
    blobs: BlobStore
    keys: KeyRing

    def pipeline(self, **overrides) -> Pipeline:
        values = dict(engine=self.engine, settings=self.settings, blobs=self.blobs, keys=self.keys,
                      dns_txt=dns_for(cemig_key()))
        values.update(overrides)
        return Pipeline(**values)

    def poll(self, **overrides) -> PassReport:
        return poll_once(self.pipeline(**overrides))

    def add_unit(self, n: int = 1, **fields):
        with session_scope(self.engine) as session:
            unit = create_unit(session=session, unit_in=unit_in(n, **fields) if not isinstance(n, UnitCreate) else n,
                               keys=self.keys, inbox=INBOX_POLICY)
            session.flush()
            return unit

    def deliver(self, *messages: bytes) -> None:
        self.dovecot.deliver_many(USER, list(messages))

    def counts(self) -> dict[str, int]:
        return self.dovecot.counts(USER)


@pytest.fixture
def world(engine, mail, tmp_path: Path) -> World:
    dovecot, smtp = mail
    return World(engine=engine, dovecot=dovecot, smtp=smtp, settings=mail_settings(dovecot, smtp),
                 blobs=BlobStore(tmp_path / "blobs"), keys=KeyRing((new_key(),)))
