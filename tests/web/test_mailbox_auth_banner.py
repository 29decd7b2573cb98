"""The dashboard tells the operator, in pt-BR, when an OAuth mailbox needs a new authorization."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from config.context import AppContext
from processor import oauth
from simulator.portal.server import BackgroundServer
from tests.web.conftest import FakeRunner, Web, make_settings
from web.app import create_app


@pytest.fixture
def oauth_web(database_url, tmp_path) -> Iterator[Web]:
    settings = make_settings(database_url, tmp_path, FATURAS_IMAP_HOST="imap.example.com",
                             FATURAS_IMAP_USER="faturas@example.com", FATURAS_IMAP_AUTH="xoauth2",
                             FATURAS_IMAP_OAUTH_PROVIDER="microsoft", FATURAS_IMAP_OAUTH_CLIENT_ID="app-id",
                             FATURAS_IMAP_OAUTH_TENANT="contoso.onmicrosoft.com")
    app = AppContext(settings=settings)
    with BackgroundServer(create_app(app, runner=FakeRunner())) as server:
        served = Web(url=server.url, app=app)
        yield served
        for client in served.clients:
            client.close()
    app.close()


def test_units_page_shows_mailbox_auth_expired_until_the_mailbox_is_authorized(oauth_web):
    account = oauth_web.app.settings.mail.accounts[0]
    assert (account.name, account.auth, account.oauth.provider) == ("default", "xoauth2", "microsoft")
    assert oauth.endpoints(account.oauth)[0] == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token")
    oauth_web.user("ana@solar.example.com")
    client = oauth_web.login("ana@solar.example.com")

    page = client.get("/unidades")
    assert page.status_code == 200
    assert 'data-state="mailbox_auth_expired"' in page.text
    assert ("A autorização de acesso à caixa de e-mail default expirou ou foi revogada" in page.text
            and "faturas mail accounts authorize default" in page.text)

    oauth.write_state(account.oauth, oauth.TokenState(refresh_token="rt-new"))
    assert "mailbox_auth_expired" not in client.get("/unidades").text
