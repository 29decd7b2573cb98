"""Fetch: connect with imap-tools (always with a timeout), read UIDVALIDITY, list UIDs, fetch new ones.

The one place where imap-tools and imaplib errors are translated (to MailboxUnavailable). Bodies are
fetched by `uid_list` in batches with `mark_seen=False`, so nothing on the server changes by reading.
"""

from __future__ import annotations

import contextlib
import imaplib
import socket
import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import structlog
from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError
from imap_tools.message import MailMessage as ImapMessage

from processor import oauth
from processor.config import MailAccount
from processor.errors import MailboxUnavailable
from processor.types import FetchedMessage

log = structlog.get_logger(__name__)

_NETWORK_ERRORS = (OSError, socket.timeout, imaplib.IMAP4.error, ImapToolsError, ssl.SSLError)


class _RawMessage(ImapMessage):
    """An imap-tools message that keeps the raw bytes and skips parsing them (later stages parse)."""

    def __init__(self, fetch_data: list) -> None:  # noqa: D107 - see class docstring
        raw, uid_data, flag_data = self._get_message_data_parts(fetch_data)
        self.raw = raw
        self._raw_uid_data = uid_data
        self._raw_flag_data = flag_data


def _mailbox_class(account: MailAccount) -> BaseMailBox:
    port = account.effective_port
    if account.tls == "ssl":
        return MailBox(account.host, port, timeout=account.timeout, ssl_context=ssl.create_default_context())
    if account.tls == "starttls":
        return MailBoxStartTls(account.host, port, timeout=account.timeout,
                               ssl_context=ssl.create_default_context())
    return MailBoxUnencrypted(account.host, port, timeout=account.timeout)


@contextmanager
def open_mailbox(account: MailAccount) -> Iterator[BaseMailBox]:
    """A logged-in mailbox with capabilities re-read after login (so MOVE is seen); raises MailboxUnavailable."""
    box: BaseMailBox | None = None
    try:
        box = _mailbox_class(account)
        box.email_message_class = _RawMessage  # type: ignore[assignment]
        if account.auth == "xoauth2":
            _xoauth2_login(box, account)
        else:
            password = _password(account)
            if password.isascii():
                box.login(account.user, password, initial_folder=None)
            else:
                box.login_utf8(account.user, password, initial_folder=None)
        # imaplib keeps the pre-login capability list; servers announce MOVE and UIDPLUS after login.
        typ, data = box.client.capability()
        if typ == "OK" and data and data[-1]:
            box.client.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())
    except (*_NETWORK_ERRORS, MailboxUnavailable) as exc:
        if box is not None:
            with contextlib.suppress(*_NETWORK_ERRORS):
                box.client.shutdown()  # a refused login leaves the connection open otherwise
        if isinstance(exc, MailboxUnavailable):
            raise
        raise MailboxUnavailable(f"mail account {account.name!r} at {account.host}:{account.effective_port}: "
                                 f"{type(exc).__name__}: {_safe(exc, account)}") from exc
    try:
        yield box
    except _NETWORK_ERRORS as exc:
        raise MailboxUnavailable(f"mail account {account.name!r}: {type(exc).__name__}: "
                                 f"{_safe(exc, account)}") from exc
    finally:
        try:
            box.logout()
        except _NETWORK_ERRORS:
            log.debug("imap_logout_failed", account=account.name)
            try:
                box.client.shutdown()  # the connection is broken: at least close our socket
            except _NETWORK_ERRORS:
                pass


def _password(account: MailAccount) -> str:
    return account.password.get_secret_value() if account.password is not None else ""


def _safe(exc: BaseException, account: MailAccount) -> str:
    """The error text without the account's password, should a server ever echo it."""
    text = str(exc)
    return (text.replace(_password(account), "[redacted]") if _password(account) else text)[:500]


def _xoauth2_login(box: BaseMailBox, account: MailAccount) -> None:
    """AUTHENTICATE XOAUTH2 with the current access token; on AUTHENTICATIONFAILED refresh it and try once more.

    A server that cannot check the token (its introspection endpoint is down: `[UNAVAILABLE]`) is a
    temporary failure, left to the next pass; only the token endpoint refusing the refresh token means
    MailboxAuthExpired.
    """
    assert account.oauth is not None  # the settings validate it
    for attempt in (0, 1):
        token = oauth.access_token(account.oauth, account=account.name, force=attempt == 1, timeout=account.timeout)
        responses = iter((oauth.xoauth2_string(account.user, token), ""))  # "" answers the error challenge
        try:
            result = box.client.authenticate("XOAUTH2", lambda _challenge, answers=responses: next(answers, ""))
        except imaplib.IMAP4.error as exc:
            if attempt == 0 and "AUTHENTICATIONFAILED" in str(exc).upper():
                log.info("imap_token_rejected", account=account.name)
                continue
            raise
        box.login_result = result
        return



def ensure_folders(box: BaseMailBox, account: MailAccount) -> None:
    """Create the Processed and Quarantine folders when missing (the inbox must exist)."""
    for folder in (account.processed, account.quarantine):
        if not box.folder.exists(folder):
            box.folder.create(folder)
            log.info("mail_folder_created", account=account.name, folder=folder)


def folder_state(box: BaseMailBox, folder: str) -> tuple[int, list[int]]:
    """Select `folder` and return its UIDVALIDITY and every UID in it (ascending)."""
    box.folder.set(folder)
    status = box.folder.status(folder, ["UIDVALIDITY"])
    uids = sorted(int(uid) for uid in box.uids("ALL", charset=None))
    return int(status["UIDVALIDITY"]), uids


def fetch_messages(box: BaseMailBox, uids: Iterable[int], *, batch: int) -> Iterator[FetchedMessage]:
    """The raw messages for `uids` (already selected folder), `batch` per FETCH, never marking them seen."""
    wanted = [str(uid) for uid in uids]
    if not wanted:
        return
    bulk = max(2, batch)
    for message in box.fetch(uid_list=wanted, mark_seen=False, bulk=bulk):
        uid = message.uid
        if uid is None:  # some servers return items without a UID; they cannot be claimed
            log.warning("imap_message_without_uid")
            continue
        yield FetchedMessage(uid=int(uid), raw=message.raw)  # type: ignore[attr-defined]
