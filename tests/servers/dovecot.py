"""A real Dovecot (IMAP + LMTP) for tests: generated config, loopback ports, its own folder, stopped at the end.

Runs as root with `dovenull`/`dovecot` users and no systemd (see DESIGN.md "Real parts"). One instance per
test session; `reset()` empties every mailbox between tests. Delivery goes through LMTP (`smtplib.LMTP`),
as an MTA would deliver; `set_uidvalidity()` recreates a mailbox so its UIDVALIDITY changes.
"""

from __future__ import annotations

import os
import pwd
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from imap_tools import MailBoxUnencrypted

DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)  # polling a port that has no readiness event
    raise RuntimeError(f"dovecot did not open port {port} within {timeout}s")


_CONFIG = """\
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login{extra_mechanisms}
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
default_internal_group = dovecot
mail_location = maildir:{base}/mail/%u
mail_uid = dovecot
mail_gid = dovecot
first_valid_uid = 1
lda_mailbox_autocreate = yes
{oauth_passdb}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={base}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
  unix_listener lmtp {{
    mode = 0666
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""

_OAUTH_PASSDB = """\
auth_failure_delay = 0
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {base}/dovecot-oauth2.conf.ext
}}
"""

_OAUTH_CONF = """\
introspection_mode = post
introspection_url = {url}
username_attribute = username
active_attribute = active
active_value = true
force_introspection = yes
timeout_msecs = 5000
"""


@dataclass
class Dovecot:
    """A running Dovecot; users are `name → password`."""

    base: Path
    imap_port: int
    lmtp_port: int
    users: dict[str, str]
    process: subprocess.Popen | None = field(default=None, repr=False)

    host: str = "127.0.0.1"

    @property
    def config(self) -> Path:
        return self.base / "dovecot.conf"

    @classmethod
    def start(cls, users: dict[str, str], *, introspection_url: str | None = None) -> Dovecot:
        """Start Dovecot; with `introspection_url` it also takes XOAUTH2/OAUTHBEARER logins, checking each
        token with a POST to that RFC 7662 endpoint (Dovecot's `oauth2` passdb)."""
        base = Path(tempfile.mkdtemp(prefix="faturas-dovecot-"))
        server = cls(base=base, imap_port=free_port(), lmtp_port=free_port(), users=dict(users))
        for sub in ("run", "state", "mail", "home"):
            (base / sub).mkdir()
        (base / "users").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in users.items()))
        oauth_passdb = ""
        if introspection_url:
            (base / "dovecot-oauth2.conf.ext").write_text(_OAUTH_CONF.format(url=introspection_url))
            oauth_passdb = _OAUTH_PASSDB.format(base=base)
        server.config.write_text(_CONFIG.format(base=base, imap_port=server.imap_port, lmtp_port=server.lmtp_port,
                                                extra_mechanisms=" xoauth2 oauthbearer" if introspection_url else "",
                                                oauth_passdb=oauth_passdb))
        dovecot_user = pwd.getpwnam("dovecot")
        os.chmod(base, 0o755)
        for sub in ("mail", "home"):
            os.chown(base / sub, dovecot_user.pw_uid, dovecot_user.pw_gid)
        subprocess.run([DOVECOT, "-c", str(server.config)], check=True)
        _wait_for_port(server.imap_port)
        _wait_for_port(server.lmtp_port)
        return server

    def stop(self) -> None:
        subprocess.run([DOVEADM, "-c", str(self.config), "stop"], check=False, capture_output=True)
        pid_file = self.base / "run" / "master.pid"
        deadline = time.monotonic() + 10
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # dovecot removes its pid file when the master has exited
        shutil.rmtree(self.base, ignore_errors=True)

    def deliver(self, user: str, message: bytes) -> None:
        """Deliver one message to `user`'s INBOX through LMTP."""
        with smtplib.LMTP(self.host, self.lmtp_port, timeout=30) as lmtp:
            lmtp.sendmail("mailer@cemig.com.br", [user], message)

    def deliver_many(self, user: str, messages: list[bytes]) -> None:
        """Deliver several messages over one LMTP session."""
        with smtplib.LMTP(self.host, self.lmtp_port, timeout=60) as lmtp:
            for message in messages:
                lmtp.sendmail("mailer@cemig.com.br", [user], message)

    def mailbox(self, user: str) -> MailBoxUnencrypted:
        """A logged-in imap-tools mailbox (the caller closes it)."""
        return MailBoxUnencrypted(self.host, self.imap_port, timeout=30).login(user, self.users[user])

    def counts(self, user: str, folders: tuple[str, ...] = ("INBOX", "Processed", "Quarantine")) -> dict[str, int]:
        """Messages per folder (a missing folder counts 0)."""
        result = {}
        with self.mailbox(user) as box:
            for folder in folders:
                result[folder] = box.folder.status(folder)["MESSAGES"] if box.folder.exists(folder) else 0
        return result

    def kick(self, user: str) -> None:
        """Disconnect every IMAP session of `user` (the server side of a dropped connection)."""
        subprocess.run([DOVEADM, "-c", str(self.config), "kick", user], check=False, capture_output=True)

    def reset(self) -> None:
        """Remove every user's mail (between tests); Dovecot recreates INBOX with a new UIDVALIDITY."""
        subprocess.run([DOVEADM, "-c", str(self.config), "kick", "*"], check=False, capture_output=True)
        for user in self.users:
            shutil.rmtree(self.base / "mail" / user, ignore_errors=True)

    def recreate_inbox(self, user: str) -> None:
        """Drop the INBOX index and UID list so the next session sees a new UIDVALIDITY."""
        subprocess.run([DOVEADM, "-c", str(self.config), "kick", user], check=False, capture_output=True)
        root = self.base / "mail" / user
        for name in ("dovecot-uidlist", "dovecot.index", "dovecot.index.cache", "dovecot.index.log",
                     "dovecot-uidvalidity"):
            (root / name).unlink(missing_ok=True)
        for extra in root.glob("dovecot-uidvalidity.*"):
            extra.unlink()
