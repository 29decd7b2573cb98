"""`faturas mail accounts authorize` (device-code flow at a loopback provider that approves on the second poll),
then the mailbox_auth_expired state as `mail poll`, `status` and `doctor` show it, against the real Dovecot."""

from __future__ import annotations

import json
import stat

import pytest
from sqlalchemy import select

from cli.main import build_app
from cli.support import EXIT_FAILED, run_app
from processor import oauth
from storage.engine import make_engine
from storage.oauth_models import OAuthToken
from tests.processor.conftest import USER
from tests.processor.oauth_fixtures import oauth_dovecot, oauth_server  # noqa: F401 - fixtures
from tests.servers.oauth import CLIENT_ID


@pytest.fixture
def cli(monkeypatch, tmp_path, capsys, database_url, oauth_server, oauth_dovecot, smtp_server):  # noqa: F811
    oauth_server.reset()
    oauth_dovecot.reset()
    config = tmp_path / "faturas.toml"
    config.write_text(f"""
[mail]
dkim_policy = "warn"
[[mail.accounts]]
name = "main"
host = "{oauth_dovecot.host}"
port = {oauth_dovecot.imap_port}
tls = "none"
user = "{USER}"
auth = "xoauth2"
oauth = {{ provider = "generic", client_id = "{CLIENT_ID}", token_url = "{oauth_server.url}/token", \
device_url = "{oauth_server.url}/device" }}
[mail.smtp]
host = "{smtp_server.host}"
port = {smtp_server.port}
""")
    monkeypatch.setenv("FATURAS_CONFIG", str(config))
    monkeypatch.setenv("FATURAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FATURAS_DATABASE_URL", database_url)
    monkeypatch.setenv("FATURAS_LOG_FORMAT", "json")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("FATURAS_SECRET_KEYS", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = run_app(build_app(), list(args))
        out, err = capsys.readouterr()
        return code, out, err

    assert run("keys", "generate")[0] == 0
    return run


def stored_token(database_url: str, token_file) -> str:  # noqa: ANN001
    """The encrypted token state: the file on SQLite, the `oauth_token` row on PostgreSQL (shared by workers)."""
    if not database_url.startswith("postgresql"):
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        return token_file.read_text()
    assert not token_file.exists()
    engine = make_engine(database_url)
    with engine.connect() as connection:
        payload = connection.execute(select(OAuthToken.payload).where(OAuthToken.name == "imap-main")).scalar_one()
    engine.dispose()
    return payload


def test_authorize_stores_the_refresh_token_encrypted_and_expiry_is_shown_for_the_operator(cli, tmp_path, database_url,
                                                                                        oauth_server):  # noqa: F811
    code, out, err = cli("mail", "accounts", "authorize", "main")
    assert code == 0, err
    assert "WDJB-MJHT" in out and f"{oauth_server.url}/activate" in out and "authorized: mail account main" in out
    assert oauth_server.device_polls == 2  # pending once, then approved
    token_file = tmp_path / "data" / "oauth" / "imap-main.token"
    refresh = next(iter(oauth_server.refresh_tokens))
    before = stored_token(database_url, token_file)
    assert refresh not in before

    code, out, err = cli("keys", "rotate", "--drop-old")  # the token state is re-encrypted with the rest
    assert code == 0, err
    assert stored_token(database_url, token_file) != before
    code, out, err = cli("mail", "poll", "--once", "--json")
    assert code == 0, err
    assert json.loads(out)["accounts"][0]["error"] is None
    code, out, _ = cli("status", "--json")
    assert [(m["account"], m["auth"], m["state"]) for m in json.loads(out)["mailboxes"]] == [
        ("main", "xoauth2", "ok"), ("smtp", "password", "ok")]

    oauth_server.revoke(refresh)
    oauth_server.expire_access_tokens()
    code, out, _ = cli("mail", "poll", "--once")
    assert code == EXIT_FAILED
    assert "refused the refresh token (invalid_grant)" in out and "faturas mail accounts authorize main" in out
    code, out, _ = cli("status", "--json")
    main = json.loads(out)["mailboxes"][0]
    assert (main["state"], main["who_acts"]) == (oauth.AUTH_EXPIRED, "operator")
    code, out, _ = cli("status")
    assert "mailbox main (imap): mailbox_auth_expired, operator acts: faturas mail accounts authorize main" in out
    code, out, _ = cli("doctor")
    assert code != 0
    line = next(line for line in out.splitlines() if "mailbox:main" in line)
    assert "mailbox_auth_expired" in line and "faturas mail accounts authorize main" in line

    code, out, err = cli("mail", "accounts", "authorize", "main")  # the way back
    assert code == 0, err
    code, out, _ = cli("mail", "poll", "--once", "--json")
    assert code == 0 and json.loads(out)["accounts"][0]["error"] is None


def test_authorize_refuses_a_password_account_and_an_unknown_name(cli):
    code, _, err = cli("mail", "accounts", "authorize", "smtp")
    assert code != 0 and 'does not use auth = "xoauth2"' in err
    code, _, err = cli("mail", "accounts", "authorize", "nope")
    assert code != 0 and "no mail account named 'nope' (configured: main, smtp)" in err
