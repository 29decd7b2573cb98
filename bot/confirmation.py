"""Reading the code or link a portal sends to a unit's inbox to confirm a new access e-mail.

The unit's inbox is an address served by the platform's own mailbox accounts (`[mail.accounts]`, often a
catch-all), so the bot owns it. `ImapConfirmationReader` polls those accounts over IMAP, bounded in time,
and looks only at messages addressed to that one address and dated at or after the request. It reads
without marking anything seen or moving it: the mail pipeline files the message afterwards (a message
without a bill ends as `no_bill`). Of a message's links it returns only one on the portal's own host.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import html
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from urllib.parse import urlsplit

import structlog
from imap_tools import AND

from processor.config import MailAccount
from processor.errors import MailboxUnavailable
from processor.fetch import open_mailbox

log = structlog.get_logger(__name__)
CLOCK_SKEW = timedelta(seconds=30)
"""How much earlier than the request a message's Date may be (the portal's clock is not ours)."""
_CODE = re.compile(r"(?<![\d.,/-])\d{6}(?![\d.,/-])")
_LINK = re.compile(r"https?://[^\s\"'<>]+")
_ADDRESS_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")


@dataclass(frozen=True)
class ImapConfirmationReader:
    """`await reader(address, since, host)` → the code or link for `address`, or None after `timeout_s`."""

    accounts: tuple[MailAccount, ...]
    timeout_s: float = 120.0
    poll_s: float = 2.0

    async def __call__(self, address: str, since: datetime, host: str) -> str | None:
        """Poll the accounts until a confirmation for `address` newer than `since` shows, or the deadline."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            found = await asyncio.to_thread(self.look, address, since, host)
            if found is not None:
                log.info("email_confirmation_read", kind="link" if found.startswith("http") else "code")
                return found
            if time.monotonic() >= deadline:
                log.warning("email_confirmation_missing", waited_s=self.timeout_s)
                return None
            await asyncio.sleep(self.poll_s)

    def look(self, address: str, since: datetime, host: str) -> str | None:
        """One look at every account (blocking): the newest matching confirmation, if any."""
        for account in self.accounts:
            try:
                with open_mailbox(account) as box:
                    box.folder.set(account.inbox)
                    # IMAP's SEARCH matches the To header by substring and dates by day: narrowed below.
                    found = [confirmation_in(raw_of(message), address, since, host) for message in box.fetch(
                        AND(to=address, date_gte=(since - CLOCK_SKEW).date()), mark_seen=False, bulk=True)]
            except MailboxUnavailable as exc:
                log.warning("email_confirmation_mailbox_unavailable", account=account.name, reason=str(exc))
                continue
            for value in reversed(found):
                if value is not None:
                    return value
        return None


def raw_of(message: object) -> bytes:
    """The raw bytes of an imap-tools message (the pipeline's mailbox class keeps them unparsed)."""
    raw = getattr(message, "raw", None)
    return raw if isinstance(raw, bytes) else getattr(message, "obj").as_bytes()  # noqa: B009


def confirmation_in(raw: bytes, address: str, since: datetime, host: str) -> str | None:
    """The link on `host` or the 6-digit code of `raw`, if it is for `address` and not older than `since`.

    None otherwise: another unit's mail, an older message, a bill, no candidate or several.
    """
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # noqa: S101 - the default policy's factory
    recipients = {a.lower() for _, a in getaddresses([str(v) for h in _ADDRESS_HEADERS
                                                      for v in message.get_all(h, [])])}
    if address.lower() not in recipients:
        return None
    try:
        sent = parsedate_to_datetime(str(message["Date"]))
    except (TypeError, ValueError):
        return None
    if sent.tzinfo is None or sent < since - CLOCK_SKEW:
        return None
    text = _text_of(message)
    links = {link.rstrip(".,;)") for link in _LINK.findall(text)}
    ours = {link for link in links if urlsplit(link).hostname == host}
    if len(ours) == 1:
        return ours.pop()
    codes = set(_CODE.findall(_LINK.sub(" ", text)))
    return codes.pop() if len(codes) == 1 and not ours else None


def _text_of(message: EmailMessage) -> str:
    parts = []
    for part in message.walk():
        if part.get_content_maintype() == "text" and not part.get_filename():
            content = part.get_content()
            if part.get_content_subtype() == "html":
                content = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r'href="([^"]+)"', r" \1 ", content)))
            parts.append(content)
    return "\n".join(parts)
