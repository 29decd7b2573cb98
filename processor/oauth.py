"""OAuth 2 for mailboxes and the relay: the encrypted token file, access-token refresh, the device-code flow.

Authlib's `OAuth2Session` speaks the protocol (refresh grant, device-code grant). The token file holds, encrypted
with the key ring (Fernet, like every stored secret), the refresh token, the current access token and its
expiry, and a state: `ok`, or `mailbox_auth_expired` once the provider refused the refresh token. That state
is kept so later passes skip the account without asking the provider again (no crash loop, no hammering),
until `faturas mail accounts authorize NAME` stores a new refresh token. Refreshes take a file lock, so two
processes over one data folder never spend one rotating refresh token twice. On PostgreSQL the state is a
row of `oauth_token` instead (`token_database`), under an advisory lock: workers on separate machines then
share one refresh token rather than each holding a copy that the provider's rotation makes stale. A token
file found in the data folder is imported into the row on first use.

    access_token(oauth, account=…)               → a token valid for at least `refresh_margin_s`
    access_token(oauth, account=…, force=True)   → a new one (after the server refused the current one)
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
import sqlalchemy as sa
import structlog
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.pool import NullPool

from processor.config import MailSettings, OAuthSettings
from processor.errors import MailboxAuthExpired, MailboxUnavailable
from storage.errors import ConfigurationError, FaturasError
from storage.models import utcnow
from storage.oauth_models import OAuthToken
from storage.secrets import KeyRing, load_key_ring

log = structlog.get_logger(__name__)

AUTH_EXPIRED = "mailbox_auth_expired"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_REFUSED = {"invalid_grant", "unauthorized_client", "invalid_client"}
"""Token-endpoint errors that no retry mends: the operator must authorize again."""

_PROVIDERS = {
    "google": ("https://oauth2.googleapis.com/token", "https://oauth2.googleapis.com/device/code",
               "https://mail.google.com/"),  # Google refuses this scope in its device flow: use --browser
    "microsoft": ("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
                  "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode",
                  "offline_access https://outlook.office.com/IMAP.AccessAsUser.All "
                  "https://outlook.office.com/SMTP.Send"),
}


def endpoints(oauth: OAuthSettings) -> tuple[str, str | None, str | None]:
    """(token URL, device authorization URL, scope) for the provider, configured values first."""
    token, device, scope = _PROVIDERS.get(oauth.provider, (None, None, None))
    def fill(url: str | None) -> str | None:
        return url.format(tenant=oauth.tenant) if url else None

    return (oauth.token_url or fill(token) or "", oauth.device_url or fill(device), oauth.scope or scope)


@dataclass(frozen=True)
class TokenState:
    """What the token file says (decrypted)."""

    refresh_token: str | None = None
    access_token: str | None = None
    expires_at: float = 0.0
    state: str = "ok"
    reason: str | None = None

    @property
    def expired(self) -> bool:
        """No refresh token, or the provider refused it: only a new authorization helps."""
        return self.state == AUTH_EXPIRED or not self.refresh_token


def _keys(oauth: OAuthSettings) -> KeyRing:
    secret = oauth.secret_keys.get_secret_value() if oauth.secret_keys else None
    return load_key_ring(env_keys=secret, key_file=oauth.key_file)


def token_name(oauth: OAuthSettings) -> str:
    """The account's name in the token store: its token file's name without `.token` (`imap-main`)."""
    return oauth.token_file.stem


def token_location(oauth: OAuthSettings) -> str:
    """Where the token state is kept, for messages: the table or the file."""
    return (f"the database (table oauth_token, row {token_name(oauth)})" if oauth.token_database is not None
            else str(oauth.token_file))


@contextmanager
def _database(oauth: OAuthSettings) -> Iterator[sa.Engine]:
    """An engine on the token database for one operation (no pool kept between passes)."""
    assert oauth.token_database is not None
    engine = sa.create_engine(oauth.token_database.get_secret_value(), poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


_TABLE = OAuthToken.__table__  # type: ignore[attr-defined]


@contextmanager
def _connection(oauth: OAuthSettings, held: sa.Connection | None) -> Iterator[sa.Connection]:
    """`held` (the locked transaction's connection), or a new transaction on the token database."""
    if held is not None:
        yield held
        return
    with _database(oauth) as engine, engine.begin() as connection:
        yield connection


def _read_payload(oauth: OAuthSettings, held: sa.Connection | None = None) -> str | None:
    """The encrypted state: the row (importing the data folder's token file when there is no row yet), or the file."""
    if oauth.token_database is None:
        return oauth.token_file.read_text(encoding="ascii").strip() if oauth.token_file.exists() else None
    with _connection(oauth, held) as connection:
        payload = connection.execute(sa.select(_TABLE.c.payload).where(_TABLE.c.name == token_name(oauth))
                                     ).scalar_one_or_none()
        if payload is None and oauth.token_file.exists():
            payload = oauth.token_file.read_text(encoding="ascii").strip()
            _write_payload(oauth, payload, connection, only_if_absent=True)
            log.info("oauth_token_imported", account=token_name(oauth))
    return payload


def _write_payload(oauth: OAuthSettings, payload: str, held: sa.Connection | None = None, *,
                   only_if_absent: bool = False) -> None:
    if oauth.token_database is None:
        path = oauth.token_file
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(payload + "\n")
        os.replace(tmp, path)
        return
    statement = pg_insert(_TABLE).values(name=token_name(oauth), payload=payload, updated_at=utcnow())
    statement = (statement.on_conflict_do_nothing(index_elements=["name"]) if only_if_absent else
                 statement.on_conflict_do_update(index_elements=["name"],
                                                 set_={"payload": payload, "updated_at": utcnow()}))
    with _connection(oauth, held) as connection:
        connection.execute(statement)


def read_state(oauth: OAuthSettings, held: sa.Connection | None = None) -> TokenState:
    """The decrypted token state, or an empty state (never authorized) when there is none."""
    payload = _read_payload(oauth, held)
    if payload is None:
        return TokenState(state=AUTH_EXPIRED, reason="not authorized yet")
    return TokenState(**json.loads(_keys(oauth).decrypt(payload)))


def write_state(oauth: OAuthSettings, state: TokenState, held: sa.Connection | None = None) -> None:
    """Encrypt and replace the token state (the file atomically, mode 0600; or the row)."""
    _write_payload(oauth, _keys(oauth).encrypt(json.dumps(state.__dict__)), held)


@contextmanager
def _locked(oauth: OAuthSettings) -> Iterator[sa.Connection | None]:
    """Hold the account's token state alone: a file lock, or a PostgreSQL advisory lock for one transaction.

    On PostgreSQL it yields that transaction's connection, so the reads and writes under the lock use it
    (one connection a refresh). What was written commits with the lock's release even when the caller then
    raises: the refused-token state must be kept, as the file store keeps it.
    """
    if oauth.token_database is not None:
        with _database(oauth) as engine, engine.connect() as connection:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                               {"key": f"faturas-oauth:{token_name(oauth)}"})
            try:
                yield connection
            finally:
                connection.commit()
        return
    oauth.token_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(oauth.token_file.with_name(oauth.token_file.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield None
    finally:
        os.close(fd)  # closing releases the lock


def session_for(oauth: OAuthSettings, timeout: float, **extra: object) -> OAuth2Session:
    """Authlib's client for this provider (a public client when there is no secret)."""
    secret = oauth.client_secret.get_secret_value() if oauth.client_secret else None
    return OAuth2Session(oauth.client_id, secret, default_timeout=timeout,
                         token_endpoint_auth_method="client_secret_post" if secret else "none", **extra)


def access_token(oauth: OAuthSettings, *, account: str, force: bool = False, timeout: float = 30.0,
                 now: Callable[[], float] = time.time) -> str:
    """A valid access token for `account`; refreshes when it is due (or `force`) and stores the result.

    Raises MailboxAuthExpired when no refresh token is stored or the provider refuses it (the state is
    recorded so later passes do not ask again), MailboxUnavailable when the token endpoint cannot be reached.
    """
    with _locked(oauth) as held:
        current = read_state(oauth, held)
        if current.expired:
            log.warning(AUTH_EXPIRED, account=account, reason=current.reason)
            raise MailboxAuthExpired(f"mail account {account!r}: OAuth authorization missing or refused "
                                     f"({current.reason}); run `faturas mail accounts authorize {account}`",
                                     account=account)
        if not force and current.access_token and now() < current.expires_at - oauth.refresh_margin_s:
            return current.access_token
        token_url = endpoints(oauth)[0]
        try:
            token = session_for(oauth, timeout).refresh_token(token_url, refresh_token=current.refresh_token)
        except OAuthError as exc:
            if exc.error not in _REFUSED:
                raise MailboxUnavailable(f"mail account {account!r}: token endpoint error {exc.error}") from exc
            write_state(oauth, TokenState(refresh_token=current.refresh_token, state=AUTH_EXPIRED,
                                          reason=str(exc.error)), held)
            log.error(AUTH_EXPIRED, account=account, reason=exc.error)
            raise MailboxAuthExpired(f"mail account {account!r}: the provider refused the refresh token "
                                     f"({exc.error}); run `faturas mail accounts authorize {account}`",
                                     account=account) from exc
        except (requests.RequestException, ValueError) as exc:
            raise MailboxUnavailable(f"mail account {account!r}: token endpoint unreachable: "
                                     f"{type(exc).__name__}") from exc
        fresh = _store(oauth, token, previous=current.refresh_token, now=now, held=held)
        log.info("oauth_token_refreshed", account=account, forced=force,
                 expires_in=int(fresh.expires_at - now()))
        return fresh.access_token or ""


def store_new_grant(oauth: OAuthSettings, token: dict, *, now: Callable[[], float] = time.time) -> TokenState:
    """Keep the tokens of a new authorization (any flow); FaturasError when there is no refresh token."""
    if not token.get("refresh_token"):
        raise FaturasError("the provider issued no refresh token (ask for offline access)")
    with _locked(oauth) as held:
        return _store(oauth, token, previous=None, now=now, held=held)


def _store(oauth: OAuthSettings, token: dict, *, previous: str | None, now: Callable[[], float],
           held: sa.Connection | None = None) -> TokenState:
    """Keep the new tokens; a provider that does not rotate refresh tokens leaves the old one in force."""
    if not token.get("access_token"):
        raise MailboxUnavailable("the token endpoint answered without an access token")
    expires_in = float(token.get("expires_in") or 3600)
    state = TokenState(refresh_token=token.get("refresh_token") or previous, access_token=token["access_token"],
                       expires_at=now() + expires_in)
    write_state(oauth, state, held)
    return state


def xoauth2_string(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response, unencoded (`user=…^Aauth=Bearer …^A^A`)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def xoauth2_base64(user: str, token: str) -> str:
    """The XOAUTH2 initial response as sent on the wire."""
    return base64.b64encode(xoauth2_string(user, token).encode()).decode("ascii")


@dataclass(frozen=True)
class DeviceCode:
    """What the operator is shown: open `verification_uri` and type `user_code`."""

    device_code: str
    user_code: str
    verification_uri: str
    expires_in: int
    interval: int
    verification_uri_complete: str | None = None


def start_device_flow(oauth: OAuthSettings, *, timeout: float = 30.0) -> DeviceCode:
    """RFC 8628 §3.1: ask the provider's device authorization endpoint for a user code."""
    _, device_url, scope = endpoints(oauth)
    if not device_url:
        raise ConfigurationError("this OAuth provider needs device_url for `faturas mail accounts authorize`")
    data = {"client_id": oauth.client_id, **({"scope": scope} if scope else {})}
    if oauth.client_secret:
        data["client_secret"] = oauth.client_secret.get_secret_value()
    try:
        response = requests.post(device_url, data=data, timeout=timeout)
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise FaturasError(f"device authorization endpoint failed: {type(exc).__name__}") from exc
    if response.status_code != 200 or "device_code" not in body:
        raise FaturasError(f"device authorization refused: {body.get('error', response.status_code)}")
    return DeviceCode(device_code=body["device_code"], user_code=body["user_code"],
                      verification_uri=body.get("verification_uri") or body.get("verification_url", ""),
                      verification_uri_complete=body.get("verification_uri_complete"),
                      expires_in=int(body.get("expires_in", 900)), interval=int(body.get("interval", 5)))


def finish_device_flow(oauth: OAuthSettings, code: DeviceCode, *, timeout: float = 30.0,
                       sleep: Callable[[float], None] = time.sleep,
                       now: Callable[[], float] = time.time) -> TokenState:
    """RFC 8628 §3.4–3.5: poll the token endpoint until the operator approves, then store the tokens encrypted."""
    session = session_for(oauth, timeout)
    token_url = endpoints(oauth)[0]
    interval, deadline = code.interval, now() + code.expires_in
    while now() < deadline:
        try:
            token = session.fetch_token(token_url, grant_type=DEVICE_GRANT, device_code=code.device_code)
        except OAuthError as exc:
            if exc.error == "authorization_pending":
                sleep(interval)
                continue
            if exc.error == "slow_down":
                interval += 5
                sleep(interval)
                continue
            raise FaturasError(f"authorization failed: {exc.error}") from exc
        return store_new_grant(oauth, token, now=now)
    raise FaturasError("the user code expired before it was approved; run the command again")


def rotate_token_files(mail: MailSettings, keys: KeyRing) -> int:
    """Re-encrypt every OAuth token state under the newest key (part of `faturas keys rotate`); how many."""
    targets = [a.oauth for a in mail.accounts if a.oauth is not None]
    if mail.smtp is not None and mail.smtp.oauth is not None:
        targets.append(mail.smtp.oauth)
    count = 0
    for oauth in targets:
        if oauth.token_database is None and not oauth.token_file.exists():
            continue
        with _locked(oauth) as held:
            payload = _read_payload(oauth, held)
            if payload is not None:
                _write_payload(oauth, keys.rotate(payload), held)
                count += 1
    return count


def auth_state(oauth: OAuthSettings) -> str:
    """`ok` or `mailbox_auth_expired`, for status pages; never raises on a missing key (says why instead)."""
    try:
        return "ok" if not read_state(oauth).expired else AUTH_EXPIRED
    except FaturasError:
        return "unreadable"


def token_path(token_dir: Path, kind: str, name: str) -> Path:
    """Where the token file of a mailbox (`imap`) or the relay (`smtp`) lives."""
    return token_dir / f"{kind}-{name}.token"
