"""Claim: insert the message's ledger row (unique on account, folder, UIDVALIDITY, UID) before any work.

The per-mailbox lease (storage.mail.acquire_lease) keeps two workers off one mailbox; the unique row is
the second line of defence: a message claimed by someone else is skipped, never worked twice. The claim
is made from the FETCH alone (UID and size): nothing of the message is parsed before its row exists, so
a message that breaks Python's `email` package still has a row, its attempts are counted and it ends
`unreadable` instead of aborting the shard. Headers are decoded afterwards, under the per-message guard,
for the ledger: RFC 2047 words, raw 8-bit UTF-8 or latin-1, a missing or broken Date; a word the stdlib
cannot decode is kept as it came. They reach the row with the outcome (or the failure), in its commit.
"""

from __future__ import annotations

import email.policy
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from processor.types import FetchedMessage, Headers, Mailbox
from storage.mail_models import MailMessage

log = structlog.get_logger(__name__)


def parse_message(raw: bytes) -> Message:
    """The message object every stage reads, parsed with compat32.

    Several times faster than the modern policy, which builds header objects for every header of every
    part; the few headers we need are decoded on demand.
    """
    return BytesParser(policy=email.policy.compat32).parsebytes(raw)


def _raw_header(message: Message, name: str) -> str | None:
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return None


def decode_header_value(message: Message, name: str) -> str | None:
    """A header as text: RFC 2047 decoded; undeclared 8-bit bytes read as UTF-8, else latin-1."""
    raw = _raw_header(message, name)
    if raw is None:
        return None
    data = raw.encode("ascii", "surrogateescape")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    try:
        text = str(make_header(decode_header(text)))
    except (ValueError, LookupError, UnicodeError, MessageError):
        pass  # an unknown charset or a broken encoded word (HeaderParseError): keep the text as it came
    return " ".join(text.split())


def read_headers(message: Message) -> Headers:
    """The ledger's view of a message's headers; a missing or unparseable Date is None."""
    date_text = decode_header_value(message, "Date")
    sent = None
    if date_text:
        try:
            sent = parsedate_to_datetime(date_text)
        except (TypeError, ValueError, IndexError, OverflowError):
            sent = None
    message_id = decode_header_value(message, "Message-ID")
    sender = decode_header_value(message, "From")
    subject = decode_header_value(message, "Subject")
    return Headers(
        message_id=message_id.strip()[:998] if message_id else None,
        sender=(parseaddr(sender)[1] or sender)[:320] if sender else None,
        subject=subject[:998] if subject else None,
        sent_date=sent if sent is None or sent.tzinfo else None,
    )


def claim(*, engine: Engine, mailbox: Mailbox, fetched: FetchedMessage) -> int | None:
    """Insert the ledger row from the FETCH alone (UID, size) and commit; None when already claimed."""
    row = MailMessage(account=mailbox.account, folder=mailbox.folder, uidvalidity=mailbox.uidvalidity,
                      uid=fetched.uid, size=len(fetched.raw))
    with Session(engine, expire_on_commit=False) as session:
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            log.info("message_already_claimed", uid=fetched.uid)
            return None
    log.debug("message_claimed", uid=fetched.uid, mail_message_id=row.id)
    return row.id


def header_values(headers: Headers) -> dict[str, object]:
    """The decoded headers as the ledger row's columns; written with the message's outcome, in its commit."""
    return {"message_id": headers.message_id, "sender": headers.sender, "subject": headers.subject,
            "sent_date": headers.sent_date}
