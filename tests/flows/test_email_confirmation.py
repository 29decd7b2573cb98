"""The portal confirms a new access e-mail by a code or a link sent to it (reference §4, §9.5 leave it open).

Real Chromium, a simulator that e-mails the unit's inbox (DKIM-signed, delivered to the test's Dovecot)
and the bot's IMAP reader: the bot reads the code or link of that inbox only (an older message with
another code and a message for another unit are there too), follows only the portal's own link, and the
mail pipeline then files the message as `no_bill`, not as a bill nor an error.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import dkim
import pytest
from playwright.async_api import async_playwright
from pydantic import SecretStr

from bot.confirmation import ImapConfirmationReader, confirmation_in
from flows.base import AdhesionRequest, ChallengePolicy, RetryPolicy
from flows.cemig.flow import CemigFlow
from flows.errors import FlowError, PortalChanged
from processor.config import MailAccount
from simulator.portal import confirm_email
from simulator.portal.app import create_app
from simulator.portal.client import AdminClient
from simulator.portal.server import BackgroundServer
from simulator.portal.store import Store
from tests.aio import run_async
from tests.factories import make_cpf
from tests.processor.conftest import PASSWORD, USER, dovecot, mail, smtp_server, world  # noqa: F401
from tests.processor.mime import cemig_key

pytestmark = pytest.mark.browser
ADMIN = "confirm-admin-token"


def signed(raw: bytes) -> bytes:
    key = cemig_key()
    return dkim.sign(raw, key.selector.encode(), key.domain.encode(), key.private_key_pem,
                     canonicalize=(b"relaxed", b"relaxed"),
                     include_headers=[b"From", b"To", b"Subject", b"Date", b"Message-ID"]) + raw


@pytest.fixture
def mailing_portal(mail) -> Iterator[tuple[str, Store, AdminClient]]:  # noqa: F811
    """A simulator whose own e-mails land, DKIM-signed, in the test Dovecot's catch-all account."""
    server, _smtp = mail
    store = Store(":memory:")
    app = create_app(store, admin_token=ADMIN, outbox=lambda raw, _to: server.deliver(USER, signed(raw)))
    with BackgroundServer(app) as portal, AdminClient(portal.url, ADMIN) as admin:
        yield portal.url, store, admin
    store.close()


def account(server) -> MailAccount:
    return MailAccount(name="main", host=server.host, port=server.imap_port, tls="none", user=USER,
                       password=SecretStr(PASSWORD), timeout=30)


def enrol(browser_settings, url: str, request: AdhesionRequest, reader) -> object:
    async def go() -> object:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**browser_settings.launch_options())
            context = await browser.new_context(locale="pt-BR")
            flow = CemigFlow(base_url=url, action_timeout_ms=8000, retry=RetryPolicy(max_restarts=1))
            try:
                return await flow.adhere(context, request, challenge=ChallengePolicy(email_confirmation=reader))
            except FlowError as error:
                return error
            finally:
                await browser.close()

    return run_async(go())


@pytest.mark.parametrize("kind", ["code", "link"])
@pytest.mark.parametrize("family", ["new", "agv"])
def test_the_bot_confirms_the_new_address_from_the_units_inbox(browser_settings, world, mailing_portal,  # noqa: F811
                                                               family, kind):
    url, store, admin = mailing_portal
    n = 40 + len(family) + len(kind)
    unit = world.add_unit(n)
    target = unit.inbox_address
    created = admin.add_customer(name="Maria Aparecida Souza", document=make_cpf(random.Random(n)),
                                 email=f"m{n}@example.com", password="Senha@123",
                                 scenario={"variant": family, "confirm_email": kind})
    admin.add_installation(created["id"], unit.installation)
    # Decoys: an older confirmation for this inbox, and a fresh one for another unit's inbox.
    older = confirm_email.message(target, "code", "111111", url).replace(
        b"Date: ", b"Date: " + format_datetime(datetime.now(UTC) - timedelta(hours=2)).encode() + b"\r\nX-Old: ", 1)
    world.deliver(signed(older), signed(confirm_email.message("uc-outra@faturas.example.com", "code", "222222", url)))
    request = AdhesionRequest(portal_login=created["document"], portal_password="Senha@123",
                              installation=unit.installation, uc_code=None, target_email=target,
                              holder_name="Maria Aparecida Souza")
    reader = ImapConfirmationReader((account(world.dovecot),), timeout_s=30, poll_s=0.3)

    outcome = enrol(browser_settings, url, request, reader)

    assert not isinstance(outcome, Exception), outcome
    assert outcome.state == "enrolled" and outcome.submissions == 1
    events = store.events(customer_id=created["id"])
    assert [e["kind"] for e in events if e["kind"].startswith("email_confirmation")] == ["email_confirmation_sent"]
    assert store.customer(created["id"]).email == target
    # The confirmation stays in the inbox for the pipeline, which files it (and the decoys) as no bill.
    report = world.poll()
    assert report.outcomes.get("no_bill", 0) >= 2 and not report.outcomes.get("parsed"), report.outcomes


def test_without_a_mailbox_the_bot_stops_with_evidence(browser_settings, mailing_portal):
    url, _store, admin = mailing_portal
    created = admin.add_customer(name="Maria Aparecida Souza", document=make_cpf(random.Random(3)),
                                 email="m3@example.com", password="Senha@123",
                                 scenario={"variant": "new", "confirm_email": "code"})
    admin.add_installation(created["id"], "3000055479")
    request = AdhesionRequest(portal_login=created["document"], portal_password="Senha@123",
                              installation="3000055479", uc_code=None, target_email="uc-3@faturas.example.com",
                              holder_name="Maria Aparecida Souza")
    outcome = enrol(browser_settings, url, request, None)
    assert isinstance(outcome, PortalChanged) and outcome.evidence.get("aria_snapshot")


def test_only_a_link_on_the_portals_host_and_only_this_inbox_count():
    since = datetime.now(UTC)
    link = confirm_email.message("uc-1@f.example", "link", "TOKEN", "http://127.0.0.1:8000")
    assert confirmation_in(link, "uc-1@f.example", since, "127.0.0.1") == \
        "http://127.0.0.1:8000/DadosAcesso/Confirmar?token=TOKEN"
    assert confirmation_in(link, "uc-1@f.example", since, "portal.example") is None  # decoy hosts never count
    assert confirmation_in(link, "uc-2@f.example", since, "127.0.0.1") is None
    code = confirm_email.message("uc-1@f.example", "code", "123456", "http://127.0.0.1:8000")
    assert confirmation_in(code, "uc-1@f.example", since, "127.0.0.1") == "123456"
    assert confirmation_in(code, "uc-1@f.example", since + timedelta(minutes=5), "127.0.0.1") is None  # older
