"""`faturas doctor`: can this machine run faturas? One check per thing it needs, each failure with its fix.

Configuration, the key file and its mode, the database and its schema, every mailbox (login, folders, IDLE),
the SMTP relay, the DKIM key and its DNS record, the browser, free disk space and the blob store. Nothing is
changed except one probe blob, written, read back and deleted.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from sqlalchemy.engine import make_url

from config.context import AppContext
from config.wiring import blob_store
from flows.browser import BrowserSettings
from processor.errors import MailboxAuthExpired, MailboxUnavailable
from processor.fetch import open_mailbox
from service import health
from service.status import mailbox_auth
from storage.errors import FaturasError

MIN_FREE_BYTES = 1024**3
DnsLookup = Callable[[bytes], bytes | None]


@dataclass(frozen=True)
class Finding:
    """One check's outcome: `fix` says what to do when it failed."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _configuration(app: AppContext) -> list[Finding]:
    url = make_url(app.settings.database_url).render_as_string(hide_password=True)
    return [Finding("configuration", True, f"data folder {app.settings.data_dir}, database {url}")]


def _key_file(app: AppContext) -> list[Finding]:
    if app.settings.secret_keys:
        return [Finding("keys", True, "from FATURAS_SECRET_KEYS")]
    path = app.settings.key_file
    if not path.exists():
        return [Finding("keys", False, f"no key file at {path}", "run `faturas keys generate` and back the file up")]
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return [Finding("keys", False, f"{path} has mode {mode:o}: others can read the keys", f"chmod 600 {path}")]
    try:
        app.keys()
    except FaturasError as exc:
        return [Finding("keys", False, str(exc), "restore the key file from its backup")]
    return [Finding("keys", True, f"{path} (mode 600)")]


def _database(app: AppContext) -> list[Finding]:
    check = health.check_database(app)
    fix = "" if check.ok else "check FATURAS_DATABASE_URL and that the server runs, then `faturas db upgrade`"
    return [Finding("database", check.ok, check.detail, fix)]


def _mailboxes(app: AppContext) -> list[Finding]:
    findings = []
    for account in app.settings.mail.accounts:
        name = f"mailbox:{account.name}"
        try:
            with open_mailbox(account) as box:
                missing = [f for f in (account.inbox, account.processed, account.quarantine)
                           if not box.folder.exists(f)]
                idle = "IDLE" in box.client.capabilities
        except MailboxAuthExpired as exc:
            findings.append(Finding(name, False, f"{exc.state}: {exc}",
                                    f"run `faturas mail accounts authorize {account.name}`"))
            continue
        except MailboxUnavailable as exc:
            findings.append(Finding(name, False, str(exc), "check the account's host, port, TLS, user and password"))
            continue
        if account.inbox in missing:
            findings.append(Finding(name, False, f"no folder {account.inbox!r}", "check the account's `inbox`"))
        elif app.settings.mail_idle and not idle:
            findings.append(Finding(name, False, "the server does not offer IDLE",
                                    "set FATURAS_MAIL_IDLE=false (the service then polls)"))
        else:
            created = f"; {', '.join(missing)} will be created on the first pass" if missing else ""
            findings.append(Finding(name, True, f"logged in at {account.host}, IDLE {'yes' if idle else 'no'}"
                                    + created))
    if not findings:
        findings.append(Finding("mailboxes", False, "no mail account is configured",
                                "set FATURAS_IMAP_HOST, _USER and _PASSWORD or add [[mail.accounts]]"))
    return findings


def _relay(app: AppContext) -> list[Finding]:
    checks = health.check_relay(app)
    if not checks:
        return [Finding("smtp_relay", False, "no SMTP relay is configured: bills cannot be forwarded",
                        "set FATURAS_SMTP_HOST (and _PORT, _TLS, _USER, _PASSWORD) or add [mail.smtp]")]
    expired = app.settings.mail.smtp is not None and any(
        row["kind"] == "smtp" and row["state"] != "ok" for row in mailbox_auth(app.settings.mail))
    fix = ("run `faturas mail accounts authorize smtp` (mailbox_auth_expired)" if expired
           else "check the relay's host, port, TLS and login")
    return [Finding(c.name, c.ok, c.detail, "" if c.ok else fix) for c in checks]


def _dkim(app: AppContext, dns_txt: DnsLookup) -> list[Finding]:
    mail = app.settings.mail
    if mail.dkim_key_file is None:
        return [Finding("dkim", True, "forwards are not DKIM-signed (mail.dkim_key_file is not set)")]
    try:
        key = serialization.load_pem_private_key(mail.dkim_key_file.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        return [Finding("dkim", False, f"{mail.dkim_key_file}: {type(exc).__name__}",
                        "point mail.dkim_key_file at an unencrypted PEM private key")]
    public = base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    domain = mail.from_address.rsplit("@", 1)[-1].strip(" >")
    name = f"{mail.dkim_selector}._domainkey.{domain}"
    try:
        record = dns_txt(name.encode())
    except Exception as exc:  # noqa: BLE001 - any resolver failure is "not published"
        record, error = None, type(exc).__name__
    else:
        error = "no TXT record"
    if not record:
        return [Finding("dkim", False, f"{name}: {error}", f"publish TXT {name} \"v=DKIM1; k=rsa; p={public}\"")]
    published = dict(part.strip().split("=", 1) for part in record.decode(errors="replace").split(";") if "=" in part)
    if published.get("p", "").replace(" ", "") != public:
        return [Finding("dkim", False, f"{name} publishes another public key",
                        f"publish TXT {name} \"v=DKIM1; k=rsa; p={public}\"")]
    return [Finding("dkim", True, f"{name} matches the key")]


def _browser(app: AppContext) -> list[Finding]:
    settings = BrowserSettings.load(app.settings.playwright_config)
    executable = settings.executable_path()
    if executable is None:
        return [Finding("browser", True, "Playwright's own Chromium")]
    if not (Path(executable).is_file() and os.access(executable, os.X_OK)):
        return [Finding("browser", False, f"{executable} is not an executable file",
                        "install Debian's chromium (scripts/setup) or run `playwright install chromium`")]
    return [Finding("browser", True, executable)]


def _disk(app: AppContext) -> list[Finding]:
    folder = app.settings.data_dir
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    detail = f"{free / 1024**3:.1f} GiB free in {folder}"
    if free < MIN_FREE_BYTES:
        return [Finding("disk", False, detail, "free space or move FATURAS_DATA_DIR: bills are stored there")]
    return [Finding("disk", True, detail)]


_BLOB_FIXES = {
    "file": "make the data folder's blobs/ writable by this user",
    "database": "check the database (see the database line above)",
    "s3": "check blobs.s3_endpoint_url, that blobs.s3_bucket exists, and the S3 credentials",
}


def _blobs(app: AppContext) -> list[Finding]:
    store = blob_store(app)
    probe = b"faturas doctor probe " + secrets.token_bytes(16)
    try:
        digest = store.put(probe)
        ok = store.get(digest) == probe
        store.delete(digest)
    except OSError as exc:
        return [Finding("blobs", False, f"{type(exc).__name__}: {exc.strerror or exc}", _BLOB_FIXES.get(
            app.settings.blobs_backend, _BLOB_FIXES["file"]))]
    except Exception as exc:  # noqa: BLE001 - botocore's and the database driver's own errors
        return [Finding("blobs", False, f"{type(exc).__name__}: {exc}"[:300], _BLOB_FIXES.get(
            app.settings.blobs_backend, _BLOB_FIXES["file"]))]
    return [Finding("blobs", ok, "write, read back and delete a probe" if ok else "a probe read back differently",
                    "" if ok else "check the disk")]


def diagnose(app: AppContext, *, dns_txt: DnsLookup | None = None) -> list[Finding]:
    """Every check, in order; none raises."""
    if dns_txt is None:
        from dkim.dnsplug import get_txt

        dns_txt = get_txt
    findings = [*_configuration(app), *_key_file(app), *_database(app)]
    for part in (_mailboxes, _relay, lambda a: _dkim(a, dns_txt), _browser, _disk, _blobs):
        findings += part(app)
    return findings
