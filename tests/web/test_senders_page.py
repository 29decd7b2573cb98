"""Page "Remetentes": an integrator sees their bills held for an unknown DKIM signer and trusts it; the bills
then go through once. Real dashboard (uvicorn), real Dovecot and aiosmtpd, both databases."""

from __future__ import annotations

import dataclasses

import pytest

from config.context import AppContext
from config.wiring import build_pipeline
from processor.pipeline import poll_once
from simulator.portal.server import BackgroundServer
from storage.engine import session_scope
from storage.models import Unit
from tests.processor.conftest import PASSWORD as MAIL_PASSWORD
from tests.processor.conftest import USER as MAIL_USER
from tests.processor.conftest import dovecot, mail, smtp_server  # noqa: F401 - the servers' fixtures
from tests.processor.test_trusted_senders import BULK, _bulk_only, _dns
from tests.web.conftest import FakeRunner, Web, csrf_of, make_settings
from web.app import create_app


@pytest.fixture
def mail_web(database_url, tmp_path, mail):  # noqa: F811 - the mail fixture
    server_dovecot, smtp = mail
    app = AppContext(settings=make_settings(
        database_url, tmp_path, FATURAS_IMAP_HOST=server_dovecot.host, FATURAS_IMAP_PORT=str(server_dovecot.imap_port),
        FATURAS_IMAP_USER=MAIL_USER, FATURAS_IMAP_PASSWORD=MAIL_PASSWORD, FATURAS_IMAP_TLS="none",
        FATURAS_SMTP_HOST=smtp.host, FATURAS_SMTP_PORT=str(smtp.port), FATURAS_SMTP_TLS="none"))
    with BackgroundServer(create_app(app, runner=FakeRunner())) as server:
        served = Web(url=server.url, app=app)
        yield served, server_dovecot, smtp
        for client in served.clients:
            client.close()
    app.close()


def test_an_integrator_trusts_the_signer_of_their_held_bill_and_it_is_processed_once(mail_web):
    web, box, smtp = mail_web
    ana = web.user("ana@solar.example.com")
    web.user("bia@solar.example.com")  # another integrator, with no held bill
    unit_id = web.unit(ana, 1, forward_to=["cliente@example.com"])
    with session_scope(web.app.engine) as session:
        unit = session.get(Unit, unit_id)
        session.expunge(unit)
    pipeline = dataclasses.replace(build_pipeline(web.app), dns_txt=_dns())
    box.deliver(MAIL_USER, _bulk_only(unit))
    assert poll_once(pipeline).outcomes == {"dkim_failed": 1}

    bia_page = web.login("bia@solar.example.com").get("/remetentes")
    assert bia_page.status_code == 200 and "Nenhuma conta retida" in bia_page.text and BULK not in bia_page.text
    bia_client = web.clients[-1]
    refused = bia_client.post("/remetentes/confiar", data={"dominio": BULK, "concessionaria": "cemig",
                                                           "csrf_token": csrf_of(bia_page)})
    assert refused.status_code == 404 and box.counts(MAIL_USER)["Quarantine"] == 1

    client = web.login("ana@solar.example.com")
    listing = client.get("/remetentes")
    assert f"1 conta assinada por {BULK} (De: cemig.com.br)" in listing.text
    assert f"Confiar em {BULK}" in listing.text
    done = client.post("/remetentes/confiar", data={"dominio": BULK, "concessionaria": "cemig",
                                                    "csrf_token": csrf_of(listing)})
    assert done.status_code == 200
    assert "1 conta volta para a caixa de entrada" in done.text and "Nenhuma conta retida" in done.text
    assert f"CEMIG: {BULK}" in done.text
    assert box.counts(MAIL_USER)["INBOX"] == 1

    assert poll_once(pipeline).outcomes == {"parsed": 1}
    assert poll_once(pipeline).outcomes == {}
    assert [m.rcpt_tos for m in smtp.messages] == [("cliente@example.com",)]  # forwarded once

