"""The `[mail]` part of the settings: IMAP accounts, SMTP relay, From/Reply-To, DKIM, PDF password rules.

TOML (all optional)::

    [mail]
    from = "Faturas <faturas@faturas.example.com>"   # default: faturas@<inbox.domain>
    reply_to = "suporte@integradora.example.com"
    dkim_policy = "require"                          # require | warn | off (incoming bills)
    dkim_key_file = "/etc/faturas/dkim.pem"          # signs forwarded bills when set
    dkim_selector = "faturas"
    max_attachment_bytes = 20971520
    forward_unparsed = true                          # a bill in an unknown layout is still forwarded (and reviewed)
    [[mail.accounts]]                                # one per mailbox; a catch-all serves every unit
    name = "main"
    host = "imap.example.com"
    port = 993
    tls = "ssl"                                      # none | starttls | ssl
    user = "faturas@example.com"
    password_file = "/etc/faturas/imap.pw"           # or password = "…" (an app password works too)
    # auth = "xoauth2"                               # instead of a password: OAuth 2 (Google, Microsoft 365)
    # oauth = { provider = "microsoft", client_id = "…", tenant = "contoso.onmicrosoft.com" }
    #   provider: google | microsoft | generic (then token_url and device_url); client_secret_file, scope
    #   The refresh token comes from `faturas mail accounts authorize NAME`, kept encrypted in
    #   <data_dir>/oauth/imap-NAME.token (smtp-relay.token for [mail.smtp]).
    inbox = "INBOX"
    processed = "Processed"
    quarantine = "Quarantine"
    [mail.smtp]
    host = "smtp.example.com"
    port = 587
    tls = "starttls"
    user = "faturas@example.com"
    password_file = "/etc/faturas/smtp.pw"
    [mail.sending_domains]
    cemig = ["cemig.com.br"]
    [mail.pdf_password_rules]                        # default: cemig = ["{document[0:4]}"]
    cemig = ["{document[0:4]}", "{document[0:5]}"]

The environment overrides: FATURAS_IMAP_HOST/PORT/USER/PASSWORD/TLS/FOLDER (one account named
`default`, replacing the TOML accounts), FATURAS_SMTP_HOST/PORT/USER/PASSWORD/TLS, FATURAS_MAIL_FROM,
FATURAS_MAIL_REPLY_TO, FATURAS_DKIM_POLICY, FATURAS_DKIM_KEY_FILE, FATURAS_DKIM_SELECTOR,
FATURAS_MAIL_MAX_ATTACHMENT_BYTES, FATURAS_MAIL_SHARDS. OAuth: FATURAS_IMAP_AUTH and
FATURAS_IMAP_OAUTH_PROVIDER/CLIENT_ID/CLIENT_SECRET/TOKEN_URL/DEVICE_URL/SCOPE/TENANT (FATURAS_SMTP_… alike).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from processor.config import MailSettings
from storage.errors import ConfigurationError

SMTP_TOKEN_FILE = "smtp-relay.token"  # noqa: S105 - a file name

_SCALARS = (  # (environment variable, key in [mail], MailSettings field)
    ("FATURAS_MAIL_FROM", "from", "from_address"),
    ("FATURAS_MAIL_REPLY_TO", "reply_to", "reply_to"),
    ("FATURAS_DKIM_POLICY", "dkim_policy", "dkim_policy"),
    ("FATURAS_DKIM_KEY_FILE", "dkim_key_file", "dkim_key_file"),
    ("FATURAS_DKIM_SELECTOR", "dkim_selector", "dkim_selector"),
    ("FATURAS_MAIL_MAX_ATTACHMENT_BYTES", "max_attachment_bytes", "max_attachment_bytes"),
    (None, "fetch_batch", "fetch_batch"),
    (None, "forward_max_attempts", "forward_max_attempts"),
    (None, "forward_backoff_seconds", "forward_backoff_seconds"),
    (None, "lease_seconds", "lease_seconds"),
    ("FATURAS_MAIL_SHARDS", "shards", "shards"),
    (None, "on_unconfirmed", "on_unconfirmed"),
    (None, "max_message_attempts", "max_message_attempts"),
    (None, "forward_unparsed", "forward_unparsed"),
    ("FATURAS_MAIL_PDF_MEMORY_LIMIT_MB", "pdf_memory_limit_mb", "pdf_memory_limit_mb"),
    (None, "pdf_timeout_s", "pdf_timeout_s"),
    (None, "sending_domains", "sending_domains"),
    (None, "pdf_password_rules", "pdf_password_rules"),
)


def _with_password(table: dict[str, Any], where: str) -> dict[str, Any]:
    """Resolve `password_file` into `password` (the file's first line)."""
    table = dict(table)
    file = table.pop("password_file", None)
    if file is not None:
        path = Path(str(file)).expanduser()
        if not path.exists():
            raise ConfigurationError(f"{where}.password_file: {path} does not exist")
        table["password"] = path.read_text(encoding="utf-8").splitlines()[0] if path.stat().st_size else ""
    return table


_OAUTH_KEYS = ("provider", "client_id", "client_secret", "token_url", "device_url", "authorize_url", "scope", "tenant")


@dataclass(frozen=True)
class _Secrets:
    """Where the refresh tokens and the key ring that encrypts them live (from the main settings)."""

    token_dir: Path
    key_file: Path
    secret_keys: str | None
    token_database: str | None = None
    """The database URL when it is PostgreSQL: there the token state is shared by every worker."""

    def oauth(self, table: dict[str, Any], where: str, token_file: Path) -> dict[str, Any]:
        """An `oauth` table ready for OAuthSettings: the secret file read, the token file and keys added."""
        table = dict(table)
        file = table.pop("client_secret_file", None)
        if file is not None:
            path = Path(str(file)).expanduser()
            if not path.exists():
                raise ConfigurationError(f"{where}.oauth.client_secret_file: {path} does not exist")
            table["client_secret"] = path.read_text(encoding="utf-8").strip()
        return {**table, "token_file": token_file, "key_file": self.key_file, "secret_keys": self.secret_keys,
                "token_database": self.token_database}


def _token_name(kind: str, name: object) -> str:
    """A token file name from an account name (any text): letters, digits, dot, dash and underscore."""
    return f"{kind}-{re.sub(r'[^A-Za-z0-9._-]', '_', str(name))}.token"


def _with_oauth(table: dict[str, Any], where: str, secrets: _Secrets | None, token_file: str) -> dict[str, Any]:
    if not isinstance(table.get("oauth"), dict) or secrets is None:
        return table
    return {**table, "oauth": secrets.oauth(table["oauth"], where, secrets.token_dir / token_file)}


def _env_oauth(env: dict[str, str], prefix: str, table: dict[str, Any]) -> dict[str, Any]:
    found = {key: env[f"{prefix}OAUTH_{key.upper()}"] for key in _OAUTH_KEYS if env.get(f"{prefix}OAUTH_{key.upper()}")}
    if env.get(f"{prefix}AUTH"):
        table["auth"] = env[f"{prefix}AUTH"]
    if found:
        table["oauth"] = found
    return table


def _env_table(env: dict[str, str], prefix: str, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: env[f"{prefix}{key.upper()}"] for key in keys if env.get(f"{prefix}{key.upper()}")}


def load_mail_settings(data: dict[str, Any], env: dict[str, str], path: Path | None, *,
                       inbox_domain: str, data_dir: Path | None = None, key_file: Path | None = None,
                       secret_keys: str | None = None, database_url: str | None = None) -> MailSettings:
    """Build MailSettings from the TOML `[mail]` table and the environment; ConfigurationError names the source.

    `data_dir` and the key ring's location are needed by OAuth accounts (their encrypted token files);
    `database_url`, when it is PostgreSQL, takes the token state instead of the files.
    """
    shared = database_url if database_url and database_url.startswith("postgresql") else None
    secrets = (_Secrets(token_dir=data_dir / "oauth", key_file=key_file or data_dir / "keys" / "faturas.key",
                        secret_keys=secret_keys, token_database=shared) if data_dir is not None else None)
    table = data.get("mail") or {}
    if not isinstance(table, dict):
        raise ConfigurationError(f"{path}: mail must be a table ([mail])")
    values: dict[str, Any] = {"from_address": f"Faturas <faturas@{inbox_domain.strip().lower()}>"}
    origin: dict[str, str] = {}
    for env_name, key, field in _SCALARS:
        if env_name and env.get(env_name):
            values[field], origin[field] = env[env_name], env_name
        elif key in table:
            values[field], origin[field] = table[key], f"{path}: mail.{key}"
    accounts = [_with_oauth(_with_password(a, f"mail.accounts[{i}]"), f"mail.accounts[{i}]", secrets,
                            _token_name("imap", a.get("name", i))) if isinstance(a, dict) else a
                for i, a in enumerate(table.get("accounts") or [])]
    origin["accounts"] = f"{path}: mail.accounts"
    if env.get("FATURAS_IMAP_HOST"):
        account = {"name": "default", **_env_table(env, "FATURAS_IMAP_", ("host", "port", "user", "password", "tls"))}
        if env.get("FATURAS_IMAP_FOLDER"):
            account["inbox"] = env["FATURAS_IMAP_FOLDER"]
        account = _with_oauth(_env_oauth(env, "FATURAS_IMAP_", account), "FATURAS_IMAP", secrets,
                              "imap-default.token")
        accounts, origin["accounts"] = [account], "FATURAS_IMAP_*"
    values["accounts"] = accounts
    smtp = table.get("smtp")
    if isinstance(smtp, dict):
        values["smtp"] = _with_oauth(_with_password(smtp, "mail.smtp"), "mail.smtp", secrets, SMTP_TOKEN_FILE)
        origin["smtp"] = f"{path}: mail.smtp"
    if env.get("FATURAS_SMTP_HOST"):
        relay = _env_table(env, "FATURAS_SMTP_", ("host", "port", "user", "password", "tls"))
        relay = _env_oauth(env, "FATURAS_SMTP_", relay)
        values["smtp"] = _with_oauth(relay, "FATURAS_SMTP", secrets, SMTP_TOKEN_FILE)
        origin["smtp"] = "FATURAS_SMTP_*"
    try:
        return MailSettings(**values)
    except ValidationError as exc:
        problems = [f"{_where(error['loc'], origin, path)}: {error['msg']}" for error in exc.errors()]
        raise ConfigurationError("invalid mail configuration: " + "; ".join(problems)) from exc


def _where(loc: tuple, origin: dict[str, str], path: Path | None) -> str:
    """Name a bad value by its environment variable or TOML key, e.g. FATURAS_IMAP_TLS or mail.accounts[0].tls."""
    parts = [str(p) for p in loc]
    if not parts:
        return "mail"
    field, rest = parts[0], [p for p in parts[1:] if not p.isdigit()]
    source = origin.get(field, "")
    if source.endswith("_*"):
        return source[:-1] + (rest[0].upper() if rest else "")
    if source.startswith("FATURAS_"):
        return source
    index = next((p for p in parts[1:] if p.isdigit()), None)
    key = {"from_address": "from"}.get(field, field) + (f"[{index}]" if index is not None else "")
    return f"{path}: mail.{'.'.join([key, *rest])}" if path else f"mail.{'.'.join([key, *rest])}"
