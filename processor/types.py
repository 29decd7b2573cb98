"""Small frozen types passed between the pipeline's stages."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime

from processor.config import MailAccount
from processor.parse.schema import Bill
from processor.pix import Pix


@dataclass(frozen=True)
class Mailbox:
    """One folder of one account at one UIDVALIDITY: the namespace of its UIDs."""

    account: str
    folder: str
    uidvalidity: int


@dataclass(frozen=True)
class Shard:
    """A slice of an inbox: the UIDs with `uid % count == index`, worked under a lease of its own."""

    index: int = 0
    count: int = 1

    def owns(self, uid: int) -> bool:
        """Whether this UID belongs to the shard."""
        return uid % self.count == self.index

    @property
    def label(self) -> str:
        """`index/count`, for logs and lease names."""
        return f"{self.index}/{self.count}"


def mailbox_lease(account: MailAccount, shard: Shard | None = None) -> str:
    """The lease name of an inbox (`imap:<account>:<folder>`), with `:<index>/<count>` for one of several shards."""
    base = f"imap:{account.name}:{account.inbox}"
    return base if shard is None or shard.count == 1 else f"{base}:{shard.label}"


def outbox_lease(shard: Shard | None = None) -> str:
    """The lease name of the outbox (`outbox`), with `:<index>/<count>` for one of several shards."""
    return "outbox" if shard is None or shard.count == 1 else f"outbox:{shard.label}"


def shards_from(owner: str, count: int) -> list[Shard]:
    """Every shard of `count`, starting at one chosen by the owner id, so workers start apart."""
    first = zlib.crc32(owner.encode()) % count
    return [Shard(index=(first + step) % count, count=count) for step in range(count)]


@dataclass(frozen=True)
class FetchedMessage:
    """A message as fetched: its UID and the exact bytes (DKIM needs them unchanged)."""

    uid: int
    raw: bytes = field(repr=False)


@dataclass(frozen=True)
class Headers:
    """What the ledger keeps about a message, decoded (RFC 2047, any charset)."""

    message_id: str | None
    sender: str | None
    subject: str | None
    sent_date: datetime | None


@dataclass(frozen=True)
class Route:
    """The unit a message is for (or the portal login, whose bill then decides the unit), and the address."""

    unit_id: int | None
    address: str
    header: str
    login_id: int | None = None


@dataclass(frozen=True)
class DkimResult:
    """`pass`, `fail`, `none` (no signature) or `skipped` (policy off), with the signing domain."""

    status: str
    domain: str | None = None
    reason: str | None = None
    signers: tuple[str, ...] = ()
    """Every signature's `d=`, in header order (what the `dkim_failed` quarantine is grouped by)."""


@dataclass(frozen=True)
class PdfPart:
    """One PDF found in a message, by its bytes."""

    filename: str | None
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class UnlockedPdf:
    """A PDF ready to read: the original bytes (kept and forwarded) and a readable copy."""

    filename: str | None
    original: bytes = field(repr=False)
    readable: bytes = field(repr=False)
    password_source: str = "none"  # noqa: S105 - which source opened it: none | empty | unit | rule


@dataclass(frozen=True)
class ReadBill:
    """A parsed bill with the verdict of its cross-checks."""

    pdf: UnlockedPdf
    bill: Bill
    needs_review: bool
    review_reasons: tuple[str, ...] = ()
    unparsed: bool = False
    """Read by the generic extractor (no layout parser accepted it): forwarded under `mail.forward_unparsed`
    with a body saying the summary is unavailable, and kept for review."""
    uc_code_to_learn: str | None = None
    """The UC code a 2026 bill printed for a unit known only by its installation: the unit learns it when the
    bill is stored from its inbox (`processor.store`); an upload does not teach it."""
    pix: Pix | None = None
    """The PIX BR Code on the page (2026 and unknown layouts), decoded from its QR (processor.pix)."""
    payee_mismatch: tuple[str, ...] = ()
    """What in the payment data names someone but the utility (processor.payee): never forwarded."""
