"""Trusted senders: DKIM signing domains an operator trusts per utility, and the `dkim_failed` quarantine by signer.

Nobody outside CEMIG knows the domain that signs its bill e-mails; when it is not in the settings'
`mail.sending_domains`, every bill lands in `dkim_failed`. The quarantine is grouped by signing domains and
From domain ("N contas assinadas por X") so an operator can trust X for the utility here; the pipeline then
accepts X beside the settings' domains (processor.senders sends the held messages back to the inbox).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from storage.errors import InvalidDomain
from storage.mail_models import MailMessage, MessageStage, TrustedSender
from storage.models import Unit

_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
UNSIGNED = "(sem assinatura)"
UNRECORDED = "(assinatura não registrada: retida antes da versão que a registra; use `faturas mail retry`)"


def normalise_domain(domain: str) -> str:
    """A domain as stored: lower case, no trailing dot; ValidationFailed for anything that is not one."""
    value = domain.strip().lower().rstrip(".")
    if not _DOMAIN.match(value):
        raise InvalidDomain(f"{domain!r} is not a domain name (e.g. cemig.com.br)")
    return value


def trusted_domains(*, session: Session) -> dict[str, tuple[str, ...]]:
    """Every trusted domain, by utility."""
    out: dict[str, list[str]] = {}
    for row in session.exec(select(TrustedSender).order_by(TrustedSender.utility, TrustedSender.domain)).all():
        out.setdefault(row.utility, []).append(row.domain)
    return {utility: tuple(domains) for utility, domains in out.items()}


def trust(*, session: Session, utility: str, domain: str, by: str | None = None) -> bool:
    """Trust `domain` for `utility`; False when it already was."""
    value = normalise_domain(domain)
    existing = session.exec(select(TrustedSender).where(TrustedSender.utility == utility,
                                                        TrustedSender.domain == value)).first()
    if existing is not None:
        return False
    session.add(TrustedSender(utility=utility, domain=value, trusted_by=by))
    session.flush()
    return True


def untrust(*, session: Session, utility: str, domain: str) -> bool:
    """Stop trusting `domain` for `utility`; False when it was not trusted."""
    value = normalise_domain(domain)
    row = session.exec(select(TrustedSender).where(TrustedSender.utility == utility,
                                                   TrustedSender.domain == value)).first()
    if row is None:
        return False
    session.delete(row)
    return True


def from_domain(sender: str | None) -> str | None:
    """The domain of a From header value (`Name <user@domain>`), lower-cased."""
    if not sender or "@" not in sender:
        return None
    return sender.rsplit("@", 1)[1].strip().rstrip(">").strip().lower() or None


@dataclass
class SenderGroup:
    """Held `dkim_failed` messages with the same signing domains and From domain."""

    signers: tuple[str, ...]
    from_domain: str | None
    utility: str | None
    message_ids: list[int] = field(default_factory=list)
    recorded: bool = True
    """False for messages held before the signing domains were recorded (migration 0010): signers unknown."""

    @property
    def count(self) -> int:
        """How many messages the group holds."""
        return len(self.message_ids)

    @property
    def label(self) -> str:
        """pt-BR: "3 contas assinadas por bulk.example.net, cemig.com.br (De: cemig.com.br)"; "1 conta assinada…"."""
        noun = "conta assinada" if self.count == 1 else "contas assinadas"
        by = ", ".join(self.signers) if self.signers else (UNSIGNED if self.recorded else UNRECORDED)
        return f"{self.count} {noun} por {by} (De: {self.from_domain or 'desconhecido'})"


def held(*, session: Session) -> list[tuple[MailMessage, str | None]]:
    """The `dkim_failed` messages not yet sent back to the inbox, with their unit's utility."""
    rows = session.exec(select(MailMessage, Unit.utility).join(Unit, Unit.id == MailMessage.unit_id, isouter=True)
                        .where(MailMessage.stage == MessageStage.DKIM_FAILED.value,
                               col(MailMessage.released_at).is_(None))
                        .order_by(MailMessage.id)).all()
    return [(message, utility) for message, utility in rows]


def dkim_failed_groups(*, session: Session) -> list[SenderGroup]:
    """The held `dkim_failed` quarantine grouped by (signing domains, From domain, utility), largest first."""
    groups: dict[tuple, SenderGroup] = {}
    for message, utility in held(session=session):
        signers = tuple(message.dkim_domains.split(",")) if message.dkim_domains else ()
        recorded = bool(signers) or message.dkim == "none"
        key = (signers, from_domain(message.sender), utility, recorded)
        group = groups.setdefault(key, SenderGroup(signers=signers, from_domain=key[1], utility=utility,
                                                   recorded=recorded))
        group.message_ids.append(message.id or 0)
    return sorted(groups.values(), key=lambda g: (-g.count, g.signers, g.from_domain or ""))


def held_signed_by(*, session: Session, utility: str, domain: str) -> list[MailMessage]:
    """Held `dkim_failed` messages of `utility` that carry a signature of `domain` (or of a subdomain)."""
    value = normalise_domain(domain)
    out = []
    for message, message_utility in held(session=session):
        signers = message.dkim_domains.split(",") if message.dkim_domains else []
        if message_utility == utility and any(s == value or s.endswith("." + value) for s in signers):
            out.append(message)
    return out
