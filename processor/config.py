"""The mail pipeline's settings: mailboxes, SMTP relay, DKIM, PDF password rules and limits.

`config.settings` builds one `MailSettings` from the TOML file and the environment (see README's
Configuration table); the pipeline takes it as a parameter and reads nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

TlsMode = Literal["none", "starttls", "ssl"]
AuthMode = Literal["password", "xoauth2"]
OAuthProvider = Literal["google", "microsoft", "generic"]
DkimPolicy = Literal["require", "warn", "off"]

# A password rule is a template over the unit's data, e.g. "{document[0:5]}" = first 5 digits of the CPF/CNPJ.
RULE_FIELD = re.compile(r"\{(document|installation|uc_code)(?:\[(-?\d*):(-?\d*)\])?\}")

DEFAULT_PDF_PASSWORD_RULES: dict[str, tuple[str, ...]] = {"cemig": ("{document[0:4]}",)}
"""Candidates tried when `mail.pdf_password_rules` is not configured. CEMIG: the holder's first four CPF/CNPJ
digits, which one public source (AndradeSE/andrade-energy, 2026) says protected 2026 bills use
(reference cemig-bill-layout.md §5.3, unverified elsewhere). Configured rules replace these."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OAuthSettings(_Frozen):
    """How an `auth = "xoauth2"` mailbox or relay gets its access tokens (see processor.oauth).

    The refresh token is not configured here: `faturas mail accounts authorize NAME` obtains it and keeps it
    encrypted with the key ring in `token_file`, which the settings loader places in the data folder, or, when
    the database is PostgreSQL (workers that may share nothing but it), in its `oauth_token` table
    (`token_database`), so that every worker uses one token state.
    """

    provider: OAuthProvider = "generic"
    client_id: str = Field(min_length=1)
    client_secret: SecretStr | None = None
    token_url: str | None = None
    """The token endpoint; google and microsoft have their own (microsoft: per `tenant`)."""
    device_url: str | None = None
    """The device authorization endpoint (RFC 8628); google and microsoft have their own."""
    authorize_url: str | None = None
    """The authorization endpoint for the installed-app flow (`authorize --browser`); google/microsoft built in."""
    scope: str | None = None
    """Scopes asked for at authorization; google and microsoft default to their IMAP+SMTP scopes."""
    tenant: str = "common"
    token_file: Path
    token_database: SecretStr | None = None
    """The PostgreSQL URL whose `oauth_token` table holds the token state instead of `token_file`."""
    key_file: Path
    secret_keys: SecretStr | None = None
    refresh_margin_s: float = Field(default=60.0, ge=0)
    """An access token is renewed this long before the expiry its provider announced."""

    @model_validator(mode="after")
    def _generic_needs_urls(self) -> OAuthSettings:
        if self.provider == "generic" and not self.token_url:
            raise ValueError("a generic OAuth provider needs token_url")
        return self


def _auth_fields(auth: str, password: SecretStr | None, oauth: OAuthSettings | None, *, needs_password: bool) -> None:
    if auth == "xoauth2" and oauth is None:
        raise ValueError('auth = "xoauth2" needs an oauth table (provider, client_id, …)')
    if auth == "password" and needs_password and password is None:
        raise ValueError('needs a password (or password_file), or auth = "xoauth2"')


class MailAccount(_Frozen):
    """One IMAP mailbox that receives bills (a catch-all for every unit's address, or one of several)."""

    name: str = Field(min_length=1, max_length=64)
    host: str = Field(min_length=1)
    port: int | None = None
    tls: TlsMode = "ssl"
    user: str = Field(min_length=1)
    auth: AuthMode = "password"
    password: SecretStr | None = None
    oauth: OAuthSettings | None = None
    inbox: str = "INBOX"
    processed: str = "Processed"
    quarantine: str = "Quarantine"
    timeout: float = Field(default=30.0, gt=0)

    @property
    def effective_port(self) -> int:
        """The port, or the usual one for the TLS mode (993 for ssl, 143 otherwise)."""
        return self.port or (993 if self.tls == "ssl" else 143)

    @field_validator("port")
    @classmethod
    def _port(cls, value: int | None) -> int | None:
        if value is not None and not 0 < value < 65536:
            raise ValueError("must be a TCP port (1-65535)")
        return value

    @model_validator(mode="after")
    def _folders_differ(self) -> MailAccount:
        if len({self.inbox, self.processed, self.quarantine}) != 3:
            raise ValueError("inbox, processed and quarantine must be three different folders")
        _auth_fields(self.auth, self.password, self.oauth, needs_password=True)
        return self


class SmtpRelay(_Frozen):
    """Where forwarded bills are sent."""

    host: str = Field(min_length=1)
    port: int = 25
    tls: TlsMode = "none"
    user: str | None = None
    auth: AuthMode = "password"
    password: SecretStr | None = None
    oauth: OAuthSettings | None = None
    timeout: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _auth(self) -> SmtpRelay:
        _auth_fields(self.auth, self.password, self.oauth, needs_password=False)
        if self.auth == "xoauth2" and not self.user:
            raise ValueError('auth = "xoauth2" needs the user the token belongs to')
        return self


class MailSettings(_Frozen):
    """Everything the mail pipeline needs besides the database, the blob store and the keys."""

    accounts: tuple[MailAccount, ...] = ()
    smtp: SmtpRelay | None = None
    from_address: str = "Faturas <faturas@faturas.example.com>"
    reply_to: str | None = None
    dkim_key_file: Path | None = None
    dkim_selector: str = "faturas"
    dkim_policy: DkimPolicy = "require"
    sending_domains: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: {"cemig": ("cemig.com.br",)})
    pdf_password_rules: dict[str, tuple[str, ...]] = Field(default_factory=lambda: dict(DEFAULT_PDF_PASSWORD_RULES))
    max_attachment_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    fetch_batch: int = Field(default=50, ge=2, le=1000)
    forward_max_attempts: int = Field(default=8, ge=1)
    forward_backoff_seconds: float = Field(default=60.0, ge=0)
    lease_seconds: float = Field(default=300.0, gt=0)
    # Each inbox is split into `shards` by UID (uid % shards), and the outbox by forward id, one lease each,
    # so up to this many workers share one mailbox and its sending. Every worker must use the same value (a
    # worker that finds outbox leases of another count does not send); a single worker takes every shard.
    shards: int = Field(default=4, ge=1, le=64)
    on_unconfirmed: Literal["resend", "park"] = "resend"
    max_message_attempts: int = Field(default=5, ge=1)
    forward_unparsed: bool = True
    """An authentic (DKIM-passed) bill of the utility that no layout parser accepts is still stored, forwarded
    with a body saying the summary is unavailable, and kept for review; off: it is quarantined unforwarded."""
    # Each PDF is unlocked and parsed in a child process with this much address space above the parent's
    # and this timeout (processor.isolate): a compression bomb or a looping PDF costs a bill, not a worker.
    # 0 reads in-process (benchmarks of the parser alone).
    pdf_memory_limit_mb: int = Field(default=512, ge=0)
    pdf_timeout_s: float = Field(default=60.0, gt=0)

    @field_validator("accounts")
    @classmethod
    def _unique_names(cls, value: tuple[MailAccount, ...]) -> tuple[MailAccount, ...]:
        names = [account.name for account in value]
        if len(names) != len(set(names)):
            raise ValueError("every mail account needs its own name")
        return value

    @field_validator("pdf_password_rules")
    @classmethod
    def _rules(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for utility, rules in value.items():
            for rule in rules:
                if not RULE_FIELD.search(rule) or "{" in RULE_FIELD.sub("", rule):
                    raise ValueError(f"{utility}: rule {rule!r} must use {{document}}, {{installation}} or "
                                     "{uc_code}, optionally sliced like {document[0:5]}")
        return value

    @field_validator("from_address", "reply_to")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and "@" not in value:
            raise ValueError("must be an e-mail address, e.g. Faturas <faturas@example.com>")
        return value

    def account(self, name: str) -> MailAccount:
        """The account called `name` (KeyError otherwise)."""
        for account in self.accounts:
            if account.name == name:
                return account
        raise KeyError(name)
