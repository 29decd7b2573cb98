"""One typed settings object, built once at start-up from a TOML file and environment variables.

Precedence: built-in defaults < TOML file < environment. The object is passed down explicitly
(CLI callback → `ctx.obj`, web app factory, scheduler bootstrap); nothing reads the environment elsewhere.

| environment variable        | TOML key             | default                                   |
|-----------------------------|----------------------|-------------------------------------------|
| FATURAS_CONFIG              | (the file itself)    | ./faturas.toml when present               |
| FATURAS_DATA_DIR            | data_dir             | $XDG_DATA_HOME/faturas or ~/.local/share/faturas |
| FATURAS_DATABASE_URL        | database.url         | sqlite:///<data_dir>/faturas.db           |
| FATURAS_SECRET_KEYS         | (environment only)   | unset: keys come from the key file        |
| FATURAS_KEY_FILE            | secrets.key_file     | <data_dir>/keys/faturas.key               |
| FATURAS_INBOX_DOMAIN        | inbox.domain         | faturas.example.com                       |
| FATURAS_INBOX_PATTERN       | inbox.pattern        | uc-{installation}-{token}                 |
| FATURAS_LOG_FORMAT          | logging.format       | auto (console on a terminal, else JSON)   |
| FATURAS_LOG_LEVEL           | logging.level        | info                                      |
| FATURAS_PLAYWRIGHT_CONFIG   | browser.config       | ./playwright.config                       |
| FATURAS_CSV_BATCH_SIZE      | units.csv_batch_size | 500                                       |
| FATURAS_CAPTCHA_SOLVER_URL  | captcha.solver_url   | unset: no solver                          |
| FATURAS_CAPTCHA_SOLVER_KEY  | (environment only)   | unset                                     |
| FATURAS_CAPTCHA_IMAGE_ATTEMPTS | captcha.image_attempts | 3 images per login before captcha_required |
| FATURAS_ADHESION_ATTEMPTS   | adhesion.attempts_per_run | 2                                    |
| FATURAS_ADHESION_BACKOFF_S  | adhesion.backoff_s   | 5                                         |
| FATURAS_ADHESION_RETRY_SCHEDULE | adhesion.retry_schedule | 1h,6h,24h,24h,24h,24h,24h,24h,24h,24h (service) |
| FATURAS_ADHESION_BATCH      | adhesion.batch       | 4 units per service run (one browser)     |
| FATURAS_MAIL_POLL_INTERVAL_S | service.mail_poll_interval_s | 300                              |
| FATURAS_ADHESION_INTERVAL_S | service.adhesion_interval_s | 60                                 |
| FATURAS_OUTBOX_INTERVAL_S   | service.outbox_interval_s | 60                                   |
| FATURAS_BILL_OVERDUE_DAYS   | service.bill_overdue_days | 5 days after "Próxima leitura"       |
| FATURAS_LOGINS_ERASE_CREDENTIALS_AFTER_DAYS | logins.erase_credentials_after_days | 30 (after all units enrolled) |
| FATURAS_SHUTDOWN_TIMEOUT_S  | service.shutdown_timeout_s | 25                                  |
| FATURAS_MAIL_IDLE           | service.mail_idle    | true: IMAP IDLE starts a pass on new mail  |
| FATURAS_WEB_SESSION_KEY_FILE | web.session_key_file | <data_dir>/keys/web-session.key (generated when absent) |
| FATURAS_WEB_SESSION_MAX_AGE_S | web.session_max_age_s | 43200 (12 h)                          |
| FATURAS_WEB_SECURE_COOKIES  | web.secure_cookies   | false (set true behind HTTPS)             |
| FATURAS_WEB_LOGIN_MAX_ATTEMPTS | web.login_max_attempts | 5 per (address, e-mail); ×3 per e-mail; ×10 per address |
| FATURAS_WEB_LOGIN_WINDOW_S  | web.login_window_s   | 900 … per this many seconds               |
| FATURAS_WEB_TRUSTED_PROXIES | web.trusted_proxies  | none: X-Forwarded-For is believed only from these |
| FATURAS_WEBHOOK_MAX_ATTEMPTS | webhooks.max_attempts | 8                                       |
| FATURAS_WEBHOOK_BACKOFF_S   | webhooks.backoff_s   | 30 (doubles after each failed attempt)    |
| FATURAS_REPORT_…            | report.…             | alert thresholds (README, Configuration)  |
| FATURAS_BLOBS_BACKEND       | blobs.backend        | file (<data_dir>/blobs); or database, or s3 |
| FATURAS_BLOBS_S3_BUCKET     | blobs.s3_bucket      | unset (required for s3)                   |
| FATURAS_BLOBS_S3_PREFIX     | blobs.s3_prefix      | faturas/                                  |
| FATURAS_BLOBS_S3_ENDPOINT_URL | blobs.s3_endpoint_url | unset: AWS; else MinIO, Ceph, moto …    |
| FATURAS_BLOBS_S3_REGION     | blobs.s3_region      | us-east-1                                 |
| FATURAS_BLOBS_S3_ACCESS_KEY_ID | blobs.s3_access_key_id | unset: boto3's chain (AWS_* variables, roles) |
| FATURAS_BLOBS_S3_SECRET_ACCESS_KEY | (environment only) | unset                                  |
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config.settings_mail import load_mail_settings
from processor.config import MailSettings
from storage.errors import ConfigurationError

# (environment variable, dotted TOML key, settings field)
_SOURCES: tuple[tuple[str, str, str], ...] = (
    ("FATURAS_DATA_DIR", "data_dir", "data_dir"),
    ("FATURAS_DATABASE_URL", "database.url", "database_url"),
    ("FATURAS_KEY_FILE", "secrets.key_file", "key_file"),
    ("FATURAS_INBOX_DOMAIN", "inbox.domain", "inbox_domain"),
    ("FATURAS_INBOX_PATTERN", "inbox.pattern", "inbox_pattern"),
    ("FATURAS_LOG_FORMAT", "logging.format", "log_format"),
    ("FATURAS_LOG_LEVEL", "logging.level", "log_level"),
    ("FATURAS_PLAYWRIGHT_CONFIG", "browser.config", "playwright_config"),
    ("FATURAS_CSV_BATCH_SIZE", "units.csv_batch_size", "csv_batch_size"),
    ("FATURAS_CAPTCHA_SOLVER_URL", "captcha.solver_url", "captcha_solver_url"),
    ("FATURAS_CAPTCHA_IMAGE_ATTEMPTS", "captcha.image_attempts", "captcha_image_attempts"),
    ("FATURAS_ADHESION_ATTEMPTS", "adhesion.attempts_per_run", "adhesion_attempts"),
    ("FATURAS_ADHESION_BACKOFF_S", "adhesion.backoff_s", "adhesion_backoff_s"),
    ("FATURAS_ADHESION_RETRY_SCHEDULE", "adhesion.retry_schedule", "adhesion_retry_schedule"),
    ("FATURAS_ADHESION_BATCH", "adhesion.batch", "adhesion_batch"),
    ("FATURAS_MAIL_POLL_INTERVAL_S", "service.mail_poll_interval_s", "mail_poll_interval_s"),
    ("FATURAS_ADHESION_INTERVAL_S", "service.adhesion_interval_s", "adhesion_interval_s"),
    ("FATURAS_OUTBOX_INTERVAL_S", "service.outbox_interval_s", "outbox_interval_s"),
    ("FATURAS_BILL_OVERDUE_DAYS", "service.bill_overdue_days", "bill_overdue_days"),
    ("FATURAS_LOGINS_ERASE_CREDENTIALS_AFTER_DAYS", "logins.erase_credentials_after_days",
     "logins_erase_credentials_after_days"),
    ("FATURAS_SHUTDOWN_TIMEOUT_S", "service.shutdown_timeout_s", "shutdown_timeout_s"),
    ("FATURAS_MAIL_IDLE", "service.mail_idle", "mail_idle"),
    ("FATURAS_WEB_SESSION_KEY_FILE", "web.session_key_file", "web_session_key_file"),
    ("FATURAS_WEB_SESSION_MAX_AGE_S", "web.session_max_age_s", "web_session_max_age_s"),
    ("FATURAS_WEB_SECURE_COOKIES", "web.secure_cookies", "web_secure_cookies"),
    ("FATURAS_WEB_LOGIN_MAX_ATTEMPTS", "web.login_max_attempts", "web_login_max_attempts"),
    ("FATURAS_WEB_LOGIN_WINDOW_S", "web.login_window_s", "web_login_window_s"),
    ("FATURAS_WEB_TRUSTED_PROXIES", "web.trusted_proxies", "web_trusted_proxies"),
    ("FATURAS_WEBHOOK_MAX_ATTEMPTS", "webhooks.max_attempts", "webhook_max_attempts"),
    ("FATURAS_WEBHOOK_BACKOFF_S", "webhooks.backoff_s", "webhook_backoff_s"),
    ("FATURAS_REPORT_CONSUMPTION_ABOVE_AVERAGE_PCT", "report.consumption_above_average_pct",
     "report_consumption_above_average_pct"),
    ("FATURAS_REPORT_AMOUNT_ABOVE_LAST_YEAR_PCT", "report.amount_above_last_year_pct",
     "report_amount_above_last_year_pct"),
    ("FATURAS_REPORT_CREDIT_GROWTH_MONTHS", "report.credit_growth_months", "report_credit_growth_months"),
    ("FATURAS_BLOBS_BACKEND", "blobs.backend", "blobs_backend"),
    ("FATURAS_BLOBS_S3_BUCKET", "blobs.s3_bucket", "blobs_s3_bucket"),
    ("FATURAS_BLOBS_S3_PREFIX", "blobs.s3_prefix", "blobs_s3_prefix"),
    ("FATURAS_BLOBS_S3_ENDPOINT_URL", "blobs.s3_endpoint_url", "blobs_s3_endpoint_url"),
    ("FATURAS_BLOBS_S3_REGION", "blobs.s3_region", "blobs_s3_region"),
    ("FATURAS_BLOBS_S3_ACCESS_KEY_ID", "blobs.s3_access_key_id", "blobs_s3_access_key_id"),
    ("FATURAS_REPORT_DIGEST", "report.digest", "report_digest"),
)


class Settings(BaseModel):
    """Everything configurable, validated; see the module docstring for the sources."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path
    database_url: str
    secret_keys: str | None = Field(default=None, repr=False)
    key_file: Path
    inbox_domain: str = "faturas.example.com"
    inbox_pattern: str = "uc-{installation}-{token}"
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    playwright_config: Path = Path("playwright.config")
    csv_batch_size: int = 500
    mail: MailSettings = MailSettings()  # the [mail] table: see config/settings_mail.py
    captcha_solver_url: str | None = None
    captcha_solver_key: str | None = Field(default=None, repr=False)
    captcha_image_attempts: int = Field(default=3, ge=1, le=10)
    """Images (a fresh one after each refused answer) one login tries before the unit needs a person."""
    adhesion_attempts: int = 2
    adhesion_backoff_s: float = 5.0
    adhesion_retry_schedule: tuple[float, ...] = (3600, 21600, *(86400,) * 8)
    """Seconds before each next service attempt after a transient failure; then a person must look."""
    adhesion_batch: int = Field(default=4, ge=1, le=32)
    mail_poll_interval_s: float = Field(default=300, ge=1)
    adhesion_interval_s: float = Field(default=60, ge=1)
    outbox_interval_s: float = Field(default=60, ge=1)
    bill_overdue_days: int = Field(default=5, ge=0)
    logins_erase_credentials_after_days: int = Field(default=30, ge=0)
    """Days after every unit of a portal login is enrolled before its password and saved session are erased
    (LGPD: the bills keep coming without them; re-enrolment then asks for the password)."""
    shutdown_timeout_s: float = Field(default=25, ge=1)
    mail_idle: bool = True
    web_session_key_file: Path | None = None
    """Secret that signs dashboard cookies and CSRF tokens; generated into the data dir when absent."""
    web_session_max_age_s: int = Field(default=43200, ge=60)
    web_secure_cookies: bool = False
    web_login_max_attempts: int = Field(default=5, ge=1)
    web_login_window_s: int = Field(default=900, ge=1)
    web_trusted_proxies: tuple[str, ...] = ()
    """Reverse proxies whose X-Forwarded-For/-Proto are believed (IPs or CIDR blocks); none by default."""
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    webhook_backoff_s: float = Field(default=30.0, ge=0)
    report_consumption_above_average_pct: Decimal = Field(default=Decimal(30), gt=0, le=1000)
    """Alert when a bill's grid consumption is this much above the unit's 12-month average."""
    report_amount_above_last_year_pct: Decimal = Field(default=Decimal(30), gt=0, le=1000)
    """Alert when a bill's amount is this much above the same month last year."""
    report_credit_growth_months: int = Field(default=6, ge=2, le=60)
    """Alert when the credit balance grew this many months in a row."""
    report_digest: bool = False
    """Send each integrator a daily e-mail with the alerts of their units (through the SMTP relay)."""
    blobs_backend: Literal["file", "database", "s3"] = "file"
    """Where bill PDFs, screenshots and traces are kept: the data folder's blobs/, the database, or S3."""
    blobs_s3_bucket: str | None = None
    blobs_s3_prefix: str = "faturas/"
    blobs_s3_endpoint_url: str | None = None
    """An S3-compatible server's URL (MinIO, Ceph, Garage, moto); unset for AWS itself."""
    blobs_s3_region: str = "us-east-1"
    blobs_s3_access_key_id: str | None = None
    blobs_s3_secret_access_key: str | None = Field(default=None, repr=False)

    @field_validator("inbox_pattern")
    @classmethod
    def _pattern_has_token(cls, value: str) -> str:
        # A random token keeps an address from ever being reused after its unit is removed.
        if "{token}" not in value:
            raise ValueError("must contain {token} so that inbox addresses are never reused")
        allowed = {"{installation}", "{token}", "{utility}"}
        probe = value
        for placeholder in allowed:
            probe = probe.replace(placeholder, "")
        if "{" in probe or "}" in probe:
            raise ValueError("may only use the placeholders {installation}, {token} and {utility}")
        return value

    @field_validator("inbox_domain")
    @classmethod
    def _domain_looks_like_one(cls, value: str) -> str:
        value = value.strip().lower()
        if "." not in value or "@" in value or " " in value:
            raise ValueError("must be a mail domain such as faturas.example.com")
        return value

    @field_validator("adhesion_retry_schedule", mode="before")
    @classmethod
    def _schedule(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(_duration(part) for part in value.split(",") if part.strip())
        if isinstance(value, list):
            return tuple(_duration(str(part)) for part in value)
        return value

    @field_validator("web_trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: object) -> object:
        parts = value.split(",") if isinstance(value, str) else value
        if isinstance(parts, list | tuple):
            proxies = tuple(str(part).strip() for part in parts if str(part).strip())
            for proxy in proxies:
                try:
                    ipaddress.ip_network(proxy, strict=False)
                except ValueError as exc:
                    raise ValueError(f"{proxy!r} is not an IP address or CIDR block") from exc
            return proxies
        return value

    @field_validator("adhesion_attempts")
    @classmethod
    def _attempts(cls, value: int) -> int:
        if not 1 <= value <= 10:
            raise ValueError("must be between 1 and 10")
        return value

    @field_validator("adhesion_backoff_s")
    @classmethod
    def _backoff(cls, value: float) -> float:
        if value < 0:
            raise ValueError("must not be negative")
        return value

    @model_validator(mode="after")
    def _s3_has_a_bucket(self) -> Settings:
        if self.blobs_backend == "s3" and not self.blobs_s3_bucket:
            raise ValueError("blobs.backend = \"s3\" needs blobs.s3_bucket (FATURAS_BLOBS_S3_BUCKET)")
        if bool(self.blobs_s3_access_key_id) != bool(self.blobs_s3_secret_access_key):
            raise ValueError("give both blobs.s3_access_key_id and FATURAS_BLOBS_S3_SECRET_ACCESS_KEY, or neither "
                             "(boto3's own chain then finds the credentials)")
        return self

    @field_validator("csv_batch_size")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value


def _duration(text: str) -> float:
    """Seconds from "90", "90s", "15m", "6h" or "1d"."""
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        if text and text[-1] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a duration (use 90s, 15m, 6h or 1d)") from exc


def _toml_get(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def load_settings(environ: dict[str, str] | None = None, config_path: Path | None = None) -> Settings:
    """Build the settings; any wrong value raises ConfigurationError naming where it came from."""
    env = dict(os.environ if environ is None else environ)
    path = config_path or (Path(env["FATURAS_CONFIG"]) if env.get("FATURAS_CONFIG") else None)
    data: dict[str, Any] = {}
    if path is None and Path("faturas.toml").exists():
        path = Path("faturas.toml")
    if path is not None:
        if not path.exists():
            raise ConfigurationError(f"configuration file {path} does not exist (FATURAS_CONFIG)")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"configuration file {path} is not valid TOML: {exc}") from exc

    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for env_name, toml_key, field in _SOURCES:
        if env.get(env_name):
            values[field], origin[field] = env[env_name], env_name
        elif (found := _toml_get(data, toml_key)) is not None:
            values[field], origin[field] = found, f"{path}: {toml_key}"

    xdg = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local" / "share")
    data_dir = Path(values.get("data_dir") or Path(xdg) / "faturas").expanduser()
    values["data_dir"] = data_dir
    values.setdefault("database_url", f"sqlite:///{data_dir / 'faturas.db'}")
    values.setdefault("key_file", data_dir / "keys" / "faturas.key")
    values.setdefault("web_session_key_file", data_dir / "keys" / "web-session.key")
    values["secret_keys"] = env.get("FATURAS_SECRET_KEYS") or None
    values["mail"] = load_mail_settings(data, env, path,
                                        inbox_domain=str(values.get("inbox_domain") or "faturas.example.com"),
                                        data_dir=data_dir, key_file=Path(values["key_file"]).expanduser(),
                                        secret_keys=values["secret_keys"], database_url=str(values["database_url"]))
    values["captcha_solver_key"] = env.get("FATURAS_CAPTCHA_SOLVER_KEY") or None
    values["blobs_s3_secret_access_key"] = env.get("FATURAS_BLOBS_S3_SECRET_ACCESS_KEY") or None
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            problems.append(f"{origin.get(field, field)}: {error['msg']}")
        raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from exc
