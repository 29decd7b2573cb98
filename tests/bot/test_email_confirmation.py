"""The bot, configured as in production, confirms a new access e-mail from the unit's inbox.

`adhere_units` with settings whose `[mail]` accounts point at the test's Dovecot: the bot's
ChallengePolicy carries the IMAP confirmation reader built from them, and the portal (a simulator that
e-mails its code to the new address, delivered to that Dovecot) takes the change only with that code.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import tomli_w

from bot.adhesion import AdhesionOptions, adhere_units
from config.context import AppContext
from config.settings import load_settings
from storage.engine import session_scope
from storage.models import AdhesionStatus, Unit, UnitCreate
from storage.secrets import new_key
from storage.units import create_unit
from tests.aio import run_async
from tests.flows.test_email_confirmation import mailing_portal  # noqa: F401
from tests.processor.conftest import PASSWORD, USER, dovecot, mail, smtp_server  # noqa: F401

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kind", ["code", "link"])
def test_adhere_reads_the_code_from_the_configured_mailbox(database_url, tmp_path, mail, mailing_portal,  # noqa: F811
                                                           kind):
    server, _smtp = mail
    url, store, admin = mailing_portal
    config = tomllib.loads((ROOT / "playwright.config").read_text())
    config["utilities"]["cemig"]["base_url"] = url
    config["timeouts"]["action_ms"] = 8000
    (tmp_path / "playwright.config").write_text(tomli_w.dumps(config))
    app = AppContext(settings=load_settings({
        "HOME": str(tmp_path), "FATURAS_DATA_DIR": str(tmp_path / "data"), "FATURAS_DATABASE_URL": database_url,
        "FATURAS_SECRET_KEYS": new_key(), "FATURAS_PLAYWRIGHT_CONFIG": str(tmp_path / "playwright.config"),
        "FATURAS_ADHESION_BACKOFF_S": "0.2", "FATURAS_IMAP_HOST": server.host,
        "FATURAS_IMAP_PORT": str(server.imap_port), "FATURAS_IMAP_TLS": "none", "FATURAS_IMAP_USER": USER,
        "FATURAS_IMAP_PASSWORD": PASSWORD,
    }))
    try:
        created = admin.add_customer(name="Maria Aparecida Souza", document="52998224725", email="m@example.com",
                                     password="Senha@123", scenario={"variant": "new", "confirm_email": kind})
        admin.add_installation(created["id"], "3000055479")
        with session_scope(app.engine) as session:
            unit_id = create_unit(session=session, unit_in=UnitCreate(
                installation="3000055479", client_name="Maria Aparecida Souza", holder_document="52998224725",
                portal_login="52998224725", portal_password="Senha@123", forward_to=["cliente@example.com"]),
                keys=app.keys(), inbox=app.inbox_policy).id
        (outcome,) = run_async(adhere_units(app, [unit_id], AdhesionOptions(backoff_s=0.2)))
        assert outcome.status == AdhesionStatus.ENROLLED and outcome.submissions == 1, outcome.message
        with session_scope(app.engine) as session:
            inbox = session.get(Unit, unit_id).inbox_address
        assert store.customer(created["id"]).email == inbox
        assert [e["kind"] for e in store.events(customer_id=created["id"])
                if e["kind"].startswith("email_confirmation")] == ["email_confirmation_sent"]
    finally:
        app.close()
