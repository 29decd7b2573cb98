"""OAuth 2 mailboxes against a real Dovecot whose `oauth2` passdb introspects tokens at a loopback server.

Covers: a token refreshed mid-pass (the server ends it after the first login), a refresh before the announced
expiry, a revoked refresh token (mailbox_auth_expired, other accounts still processed, no retry storm), an
introspection endpoint that is down (a temporary failure, not auth_expired), and the relay over XOAUTH2.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import select
from structlog.testing import capture_logs

from processor import oauth
from processor.config import MailAccount, MailSettings, OAuthSettings, SmtpRelay
from processor.fetch import open_mailbox
from processor.oauth_browser import authorize_in_browser
from service.status import mailbox_problems
from storage.blobs import BlobStore
from storage.engine import session_scope
from storage.mail_models import Forward
from storage.secrets import KeyRing, new_key
from tests.processor.conftest import PASSWORD, USER, World
from tests.processor.mime import bill_message
from tests.processor.oauth_fixtures import oauth_dovecot, oauth_server  # noqa: F401 - fixtures
from tests.servers.oauth import CLIENT_ID, OAuthServer
from tests.servers.smtp import SmtpServer


def oauth_settings(server: OAuthServer, keys: KeyRing, tmp_path: Path, name: str, **extra) -> OAuthSettings:
    return OAuthSettings(provider="generic", client_id=CLIENT_ID, token_url=f"{server.url}/token",
                         device_url=f"{server.url}/device", token_file=tmp_path / "oauth" / f"imap-{name}.token",
                         key_file=tmp_path / "no-key-file", secret_keys=SecretStr(",".join(keys.keys)), **extra)


def authorized(settings: OAuthSettings, server: OAuthServer, user: str = USER) -> str:
    """What `faturas mail accounts authorize` leaves behind: a refresh token in the encrypted file."""
    refresh = server.grant(user)
    oauth.write_state(settings, oauth.TokenState(refresh_token=refresh))
    return refresh


@pytest.fixture
def setup(engine, oauth_server, oauth_dovecot, smtp_server, tmp_path):  # noqa: F811 - the fixtures
    oauth_server.reset()
    oauth_dovecot.reset()
    smtp_server.clear()
    if smtp_server._controller is None:
        smtp_server.start()
    keys = KeyRing((new_key(),))
    main_oauth = oauth_settings(oauth_server, keys, tmp_path, "main")
    account = MailAccount(name="main", host=oauth_dovecot.host, port=oauth_dovecot.imap_port, tls="none", user=USER,
                          auth="xoauth2", oauth=main_oauth, timeout=30)

    def world(*accounts: MailAccount, shards: int = 1, relay: SmtpRelay | None = None) -> World:
        settings = MailSettings(accounts=accounts or (account,), from_address="Faturas <faturas@faturas.example.com>",
                                smtp=relay or SmtpRelay(host=smtp_server.host, port=smtp_server.port, timeout=10),
                                dkim_policy="require", forward_backoff_seconds=0, shards=shards)
        return World(engine=engine, dovecot=oauth_dovecot, smtp=smtp_server, settings=settings,
                     blobs=BlobStore(tmp_path / "blobs"), keys=keys)

    return oauth_server, account, world


def test_a_token_the_server_ends_mid_pass_is_refreshed_and_every_shard_is_read(setup):
    server, account, world = setup
    authorized(account.oauth, server)
    w = world(shards=2)
    units = [w.add_unit(n) for n in (1, 2)]
    w.deliver(*(bill_message(u.inbox_address, u.installation, "2026-10") for u in units))
    server.expire_after_introspections = 1  # the first shard logs in, then the provider ends the token

    with capture_logs() as logs:
        report = w.poll()

    assert report.accounts[0].error is None, report
    assert report.accounts[0].outcomes == {"parsed": 2}
    assert w.counts() == {"INBOX": 0, "Processed": 2, "Quarantine": 0}
    assert len(server.issued) == 2  # the first token, then one refresh after the server refused it
    assert [e["event"] for e in logs if e["event"] == "imap_token_rejected"] == ["imap_token_rejected"]
    refreshed = [e for e in logs if e["event"] == "oauth_token_refreshed"]
    assert [e["forced"] for e in refreshed] == [False, True]
    stored = oauth.read_state(account.oauth)
    assert stored.access_token == server.issued[-1] and stored.state == "ok"
    raw = account.oauth.token_file.read_text()
    assert stored.refresh_token not in raw and stored.access_token not in raw  # encrypted at rest


def test_an_access_token_is_renewed_before_the_expiry_the_provider_announced(setup, oauth_dovecot):  # noqa: F811 - the fixtures
    server, account, _ = setup
    authorized(account.oauth, server)
    server.expires_in = 600
    clock = [1_000_000.0]
    first = oauth.access_token(account.oauth, account="main", now=lambda: clock[0])
    clock[0] += 600 - account.oauth.refresh_margin_s - 1
    assert oauth.access_token(account.oauth, account="main", now=lambda: clock[0]) == first
    clock[0] += 2  # now inside the margin: renewed although the old one would still work
    second = oauth.access_token(account.oauth, account="main", now=lambda: clock[0])
    assert second != first and server.issued == [first, second]
    with open_mailbox(account) as box:  # Dovecot takes the renewed token
        assert box.folder.exists("INBOX")


def test_the_installed_app_flow_gets_a_refresh_token_through_a_loopback_redirect_with_pkce(setup, tmp_path):
    server, account, _ = setup
    settings = account.oauth.model_copy(update={"authorize_url": f"{server.url}/authorize"})
    browser = []

    def open_in_browser(url: str) -> None:  # what the operator's browser does: follow the provider's redirect
        assert "code_challenge_method=S256" in url and "code_challenge=" in url and "state=" in url
        browser.append(threading.Thread(target=httpx.get, args=(url,), kwargs={"follow_redirects": True}))
        browser[0].start()

    stored = authorize_in_browser(settings, show=open_in_browser, wait_s=20)

    browser[0].join(10)
    assert stored.refresh_token in server.refresh_tokens and server.codes == {}  # the code was spent
    with open_mailbox(account.model_copy(update={"oauth": settings})) as box:
        assert box.folder.exists("INBOX")


def test_a_revoked_refresh_token_is_mailbox_auth_expired_and_other_accounts_go_on(setup, oauth_dovecot):  # noqa: F811 - the fixtures
    server, account, world = setup
    refresh = authorized(account.oauth, server)
    server.revoke(refresh)
    other = MailAccount(name="other", host=oauth_dovecot.host, port=oauth_dovecot.imap_port, tls="none",
                        user="other", password=SecretStr("other-secret-2"), timeout=30)
    w = world(account, other)
    unit = w.add_unit(1)
    w.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10"))  # to `bills`, the OAuth mailbox
    oauth_dovecot.deliver("other", bill_message(unit.inbox_address, unit.installation, "2026-09"))

    with capture_logs() as logs:
        report = w.poll()

    by_name = {a.account: a for a in report.accounts}
    assert "refused the refresh token (invalid_grant)" in (by_name["main"].error or "")
    assert "faturas mail accounts authorize main" in by_name["main"].error
    assert by_name["other"].error is None and by_name["other"].outcomes == {"parsed": 1}
    assert [e["account"] for e in logs if e["event"] == "mailbox_auth_expired"] == ["main"]
    assert oauth.auth_state(account.oauth) == oauth.AUTH_EXPIRED
    assert [(p["account"], p["state"], p["who_acts"]) for p in mailbox_problems(w.settings)] == [
        ("main", "mailbox_auth_expired", "operator")]
    assert w.counts() == {"INBOX": 1, "Processed": 0, "Quarantine": 0}  # nothing lost

    asked = server.token_requests
    again = w.poll()  # the next pass skips the account without asking the provider again
    assert server.token_requests == asked
    assert "authorize main" in ({a.account: a.error for a in again.accounts}["main"] or "")

    authorized(account.oauth, server)  # the operator authorizes again
    after = w.poll()
    assert {a.account: a.outcomes for a in after.accounts}["main"] == {"parsed": 1}
    assert mailbox_problems(w.settings) == []


def test_an_introspection_endpoint_that_is_down_is_a_temporary_failure_not_auth_expired(setup):
    server, account, world = setup
    authorized(account.oauth, server)
    w = world()
    unit = w.add_unit(1)
    w.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10"))
    server.introspection_down = True

    report = w.poll()

    assert "UNAVAILABLE" in (report.accounts[0].error or ""), report
    assert oauth.auth_state(account.oauth) == "ok"
    assert len(server.issued) == 1  # a server that cannot check tokens is no reason to spend the refresh token
    assert mailbox_problems(w.settings) == []
    assert w.counts()["INBOX"] == 1

    server.introspection_down = False
    assert w.poll().accounts[0].outcomes == {"parsed": 1}


def test_the_relay_takes_xoauth2_refreshes_a_refused_token_and_waits_when_the_grant_is_revoked(setup, tmp_path):
    server, _, world = setup
    relay_server = SmtpServer(check_token=lambda user, token: server.valid(token) == user).start()
    try:
        keys_world = world()
        relay_oauth = oauth_settings(server, keys_world.keys, tmp_path, "relay")
        relay = SmtpRelay(host=relay_server.host, port=relay_server.port, user=USER, auth="xoauth2",
                          oauth=relay_oauth, timeout=10)
        mailbox = MailAccount(name="plain", host=keys_world.dovecot.host, port=keys_world.dovecot.imap_port,
                              tls="none", user=USER, password=SecretStr(PASSWORD), timeout=30)
        w = world(mailbox, relay=relay)
        refresh = authorized(relay_oauth, server)
        unit = w.add_unit(1)

        w.deliver(bill_message(unit.inbox_address, unit.installation, "2026-08"))
        assert w.poll().forwarded == 1 and len(relay_server.messages) == 1

        server.expire_access_tokens()  # the stored token is refused: one 535, a refresh, then it is sent
        w.deliver(bill_message(unit.inbox_address, unit.installation, "2026-09"))
        assert w.poll().forwarded == 1 and len(relay_server.messages) == 2
        assert len(server.issued) == 2

        server.revoke(refresh)
        server.expire_access_tokens()
        w.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10"))
        report = w.poll()
        assert report.forwarded == 0 and report.outbox.relay_unavailable
        assert [p["account"] for p in mailbox_problems(w.settings)] == ["smtp"]
        with session_scope(w.engine) as session:
            statuses = sorted(f.status for f in session.exec(select(Forward)))
        assert statuses == ["pending", "sent", "sent"]  # the third bill waits for the new authorization
    finally:
        relay_server.stop()
