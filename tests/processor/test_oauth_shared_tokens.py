"""OAuth token state shared through PostgreSQL by workers with separate data folders (issue 19).

With one token file per data folder, a provider that rotates refresh tokens (each refresh returns a new one
and revokes the old) leaves every worker but the first with a dead copy: `mailbox_auth_expired` on a healthy
account. On PostgreSQL the state is one `oauth_token` row under an advisory lock, so every worker follows the
rotation and only one of them refreshes at a time.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from config.settings import load_settings
from processor import oauth
from processor.config import OAuthSettings
from processor.errors import MailboxAuthExpired
from storage.engine import make_engine
from storage.oauth_models import OAuthToken
from storage.secrets import KeyRing, new_key
from tests.processor.oauth_fixtures import oauth_server  # noqa: F401 - fixture
from tests.servers.oauth import CLIENT_ID, OAuthServer

USER = "bills"


@pytest.fixture
def pg_url(database_url: str) -> str:
    assert database_url.startswith("postgresql")  # the shared state is PostgreSQL's; SQLite keeps the file
    return database_url


def worker_settings(server: OAuthServer, keys: KeyRing, folder: Path, database: str | None) -> OAuthSettings:
    """One worker's view of the account `main`: its own data folder, maybe the shared database."""
    return OAuthSettings(provider="generic", client_id=CLIENT_ID, token_url=f"{server.url}/token",
                         token_file=folder / "oauth" / "imap-main.token", key_file=folder / "no-key-file",
                         secret_keys=SecretStr(",".join(keys.keys)),
                         token_database=SecretStr(database) if database else None)


@pytest.fixture
def rotating(oauth_server: OAuthServer) -> OAuthServer:  # noqa: F811 - the fixture
    oauth_server.reset()
    oauth_server.rotate_refresh_tokens = True
    yield oauth_server
    oauth_server.reset()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_workers_with_separate_folders_follow_a_rotating_refresh_token(rotating, pg_url, tmp_path):
    keys = KeyRing((new_key(),))
    first = worker_settings(rotating, keys, tmp_path / "a", pg_url)
    second = worker_settings(rotating, keys, tmp_path / "b", pg_url)
    oauth.write_state(first, oauth.TokenState(refresh_token=rotating.grant(USER)))  # `authorize` on machine a

    for turn in range(3):  # each refresh rotates the token; the other worker must use the new one
        for worker in (first, second):
            token = oauth.access_token(worker, account="main", force=True)
            assert rotating.valid(token) == USER, f"turn {turn}"

    assert rotating.token_requests == 6
    assert not oauth.read_state(second).expired
    assert not (tmp_path / "a" / "oauth" / "imap-main.token").exists()  # nothing of it on either disk
    assert not (tmp_path / "b" / "oauth" / "imap-main.token").exists()
    engine = make_engine(pg_url)
    with engine.connect() as connection:
        payload = connection.execute(select(OAuthToken.payload)).scalar_one()
    engine.dispose()
    assert oauth.read_state(first).refresh_token not in payload  # encrypted at rest


def test_a_copied_token_file_goes_stale_under_rotation_the_failure_the_database_avoids(rotating, tmp_path):
    # The control: the same two workers, each with a copy of the token file, as the README used to suggest.
    keys = KeyRing((new_key(),))
    first = worker_settings(rotating, keys, tmp_path / "a", None)
    second = worker_settings(rotating, keys, tmp_path / "b", None)
    state = oauth.TokenState(refresh_token=rotating.grant(USER))
    oauth.write_state(first, state)
    oauth.write_state(second, state)

    oauth.access_token(first, account="main", force=True)
    with pytest.raises(MailboxAuthExpired):
        oauth.access_token(second, account="main", force=True)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_due_at_once_refresh_once(rotating, pg_url, tmp_path):
    keys = KeyRing((new_key(),))
    workers = [worker_settings(rotating, keys, tmp_path / name, pg_url) for name in "ab"]
    oauth.write_state(workers[0], oauth.TokenState(refresh_token=rotating.grant(USER), access_token="at-old",
                                                   expires_at=0.0))  # the access token is due
    tokens: list[str] = []
    errors: list[BaseException] = []

    def take(worker: OAuthSettings) -> None:
        try:
            tokens.append(oauth.access_token(worker, account="main"))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert rotating.token_requests == 1  # the second worker waited on the lock, then found a fresh token
    assert tokens[0] == tokens[1] and rotating.valid(tokens[0]) == USER


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_token_file_already_in_the_data_folder_is_imported_on_first_use(rotating, pg_url, tmp_path):
    keys = KeyRing((new_key(),))
    on_disk = worker_settings(rotating, keys, tmp_path / "a", None)
    refresh = rotating.grant(USER)
    oauth.write_state(on_disk, oauth.TokenState(refresh_token=refresh))  # authorized before the upgrade

    shared = worker_settings(rotating, keys, tmp_path / "a", pg_url)
    assert oauth.read_state(shared).refresh_token == refresh
    token = oauth.access_token(shared, account="main", force=True)
    assert rotating.valid(token) == USER
    other = worker_settings(rotating, keys, tmp_path / "b", pg_url)  # a second machine: no file, the row
    assert oauth.access_token(other, account="main", force=True)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_key_rotation_re_encrypts_the_row(rotating, pg_url, tmp_path):
    from processor.config import MailAccount, MailSettings

    old = KeyRing((new_key(),))
    settings = worker_settings(rotating, old, tmp_path / "a", pg_url)
    oauth.write_state(settings, oauth.TokenState(refresh_token="rt-kept"))
    account = MailAccount(name="main", host="127.0.0.1", user=USER, auth="xoauth2", oauth=settings)
    mail = MailSettings(accounts=(account,), from_address="Faturas <faturas@faturas.example.com>")
    fresh = KeyRing((new_key(), *old.keys))

    assert oauth.rotate_token_files(mail, fresh) == 1
    newest_only = settings.model_copy(update={"secret_keys": SecretStr(fresh.keys[0])})
    assert oauth.read_state(newest_only).refresh_token == "rt-kept"


def test_the_settings_put_the_token_state_in_postgresql_only(tmp_path):
    env = {"HOME": str(tmp_path), "FATURAS_IMAP_HOST": "imap.example.com", "FATURAS_IMAP_USER": "bills",
           "FATURAS_IMAP_AUTH": "xoauth2", "FATURAS_IMAP_OAUTH_PROVIDER": "google",
           "FATURAS_IMAP_OAUTH_CLIENT_ID": "client"}
    on_sqlite = load_settings(env).mail.accounts[0].oauth
    assert on_sqlite.token_database is None
    url = "postgresql+psycopg://faturas:s3cret@db.example.com/faturas"
    on_postgres = load_settings({**env, "FATURAS_DATABASE_URL": url}).mail.accounts[0].oauth
    assert on_postgres.token_database.get_secret_value() == url
    assert "s3cret" not in repr(on_postgres) and oauth.token_location(on_postgres).startswith("the database")
