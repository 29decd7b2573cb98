"""The simulated Conta Digital: e-mails each enrolled installation's bill, as CEMIG does, over SMTP.

``send_cycle`` generates the cycle's bill of every profile that has an e-mail address and sends it,
DKIM-signed for the sender's domain, to that address; profiles without one get nothing.
``build_bill_message`` builds the same message without sending it (for LMTP or a maildir).
``generate_dkim_key`` makes a throw-away key pair at run time (a private key is never committed) and
``dkim_verify`` checks a message against TXT records held in a dict instead of DNS.
"""

from __future__ import annotations

import base64
import email
import email.policy
import html
import os
import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from simulator.bills.formats import MONTH_ABBR, br_date, br_number, month_name
from simulator.bills.generator import GeneratedBill, generate_bill
from simulator.bills.profile import InstallationProfile

DEFAULT_SENDER = "CEMIG Conta Digital <contadigital@cemig.com.br>"
DEFAULT_SELECTOR = "contadigital"
_SIGNED_HEADERS = [b"From", b"To", b"Subject", b"Date", b"Message-ID", b"MIME-Version", b"Content-Type"]


class BillMailerError(Exception):
    """The SMTP server could not be reached or dropped the connection; nothing more was sent."""


@dataclass(frozen=True)
class DkimKey:
    """A DKIM signing key and the DNS TXT record that publishes its public half."""

    selector: str
    domain: str
    private_key_pem: bytes
    dns_txt: str
    """The TXT record value, ``v=DKIM1; k=rsa; p=…``."""

    @property
    def record_name(self) -> str:
        """Where the TXT record lives: ``<selector>._domainkey.<domain>``."""
        return f"{self.selector}._domainkey.{self.domain}"

    def __repr__(self) -> str:
        return f"DkimKey(selector={self.selector!r}, domain={self.domain!r}, private_key_pem=<redacted>)"


@dataclass(frozen=True)
class Delivery:
    """The outcome of one bill e-mail."""

    installation: str
    recipient: str
    message_id: str
    accepted: bool
    error: str | None = None


@dataclass(frozen=True)
class CycleReport:
    """What one billing cycle sent, and to whom."""

    cycle: str
    deliveries: tuple[Delivery, ...]
    not_enrolled: tuple[str, ...]
    """Installations without an e-mail address (no Conta Digital): nothing was sent to them."""

    @property
    def sent(self) -> tuple[Delivery, ...]:
        """Deliveries the server accepted."""
        return tuple(d for d in self.deliveries if d.accepted)

    @property
    def failed(self) -> tuple[Delivery, ...]:
        """Deliveries the server refused."""
        return tuple(d for d in self.deliveries if not d.accepted)


def generate_dkim_key(selector: str = DEFAULT_SELECTOR, domain: str = "cemig.com.br") -> DkimKey:
    """A fresh RSA-2048 DKIM key for ``selector`` and ``domain`` (made at run time, never stored)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return DkimKey(selector, domain, pem, f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode('ascii')}")


def load_or_create_dkim_key(path: Path, selector: str = DEFAULT_SELECTOR, domain: str = "cemig.com.br") -> DkimKey:
    """The simulator's DKIM key kept in `path` (PEM, mode 600), created on first use.

    The key lives in the simulator's own data folder so that every billing cycle signs with the same key
    and the mail processor can be given the matching TXT record (printed by `faturas simulator bill`).
    """
    if not path.exists():
        fresh = generate_dkim_key(selector, domain)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(fresh.private_key_pem)
        return fresh
    pem = path.read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return DkimKey(selector, domain, pem, f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode('ascii')}")


def dkim_verify(message_bytes: bytes, dns_txt: Mapping[str, str]) -> bool:
    """Verify the message's DKIM signature, resolving ``<selector>._domainkey.<domain>`` from ``dns_txt``."""

    def lookup(name: bytes, timeout: float = 5) -> bytes | None:
        record = dns_txt.get(name.decode("ascii").rstrip("."))
        return record.encode("ascii") if record is not None else None

    try:
        return bool(dkim.verify(message_bytes, dnsfunc=lookup))
    except dkim.DKIMException:
        return False


def _sender_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    if "@" not in address:
        raise ValueError(f"sender has no address: {sender!r}")
    return address.rpartition("@")[2].lower()


def _reference(bill: GeneratedBill) -> tuple[str, str]:
    year, month = (int(part) for part in (bill.bill.reference_month or "0000-01").split("-"))
    return f"{MONTH_ABBR[month - 1]}/{year}", month_name(year, month)


def _bodies(profile: InstallationProfile, bill: GeneratedBill) -> tuple[str, str]:
    short, long = _reference(bill)
    amount = f"R$ {br_number(Decimal(bill.bill.amount_due or '0'))}"
    due = br_date(date.fromisoformat(bill.bill.due_date or "1970-01-01"))
    lock = (
        "O arquivo PDF é protegido por senha. Use a senha cadastrada para abrir a sua conta."
        if profile.pdf_password
        else ""
    )
    text = "\n".join(
        [
            f"Olá, {profile.holder_name}.",
            "",
            f"A sua conta de energia da instalação {profile.installation}, referente a {long}, já está disponível.",
            "",
            f"Valor a pagar: {amount}",
            f"Vencimento: {due}",
            f"Linha digitável: {bill.linha_digitavel}",
            "",
            "A conta completa (DANF3E) segue anexa a este e-mail em PDF.",
            *([lock] if lock else []),
            "",
            "Esta é uma mensagem automática da Conta Digital CEMIG. Por favor, não responda.",
            "CEMIG Distribuição S.A. - Fale com a CEMIG: 116 - www.cemig.com.br",
            "",
        ]
    )
    e = html.escape
    html_body = (
        '<!DOCTYPE html>\n<html lang="pt-BR"><head><meta charset="utf-8">'
        f"<title>Conta de energia CEMIG - {e(short)}</title></head><body>\n"
        f"<p>Olá, {e(profile.holder_name)}.</p>\n"
        f"<p>A sua conta de energia da instalação <strong>{e(profile.installation)}</strong>, referente a "
        f"<strong>{e(long)}</strong>, já está disponível.</p>\n"
        "<table>\n"
        f'<tr><th align="left">Valor a pagar</th><td>{e(amount)}</td></tr>\n'
        f'<tr><th align="left">Vencimento</th><td>{e(due)}</td></tr>\n'
        f'<tr><th align="left">Linha digitável</th><td><code>{e(bill.linha_digitavel)}</code></td></tr>\n'
        "</table>\n"
        "<p>A conta completa (DANF3E) segue anexa a este e-mail em PDF.</p>\n"
        + (f"<p>{e(lock)}</p>\n" if lock else "")
        + "<p><small>Esta é uma mensagem automática da Conta Digital CEMIG. Por favor, não responda.<br>"
        "CEMIG Distribuição S.A. - Fale com a CEMIG: 116 - www.cemig.com.br</small></p>\n"
        "</body></html>\n"
    )
    return text, html_body


def build_bill_message(
    profile: InstallationProfile,
    bill: GeneratedBill,
    *,
    sender: str = DEFAULT_SENDER,
    dkim_key: DkimKey | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The Conta Digital e-mail carrying ``bill`` to ``profile.email``, DKIM-signed when a key is given.

    Serialise it with ``message.as_bytes(policy=email.policy.SMTP)``; the signature uses relaxed
    canonicalisation, so it survives that round trip. Raises ValueError for a profile without e-mail.
    """
    if not profile.email:
        raise ValueError(f"installation {profile.installation} is not enrolled in Conta Digital (no e-mail)")
    domain = _sender_domain(sender)
    short, _ = _reference(bill)
    text, html_body = _bodies(profile, bill)
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = sender
    message["To"] = profile.email
    message["Subject"] = f"Sua conta de energia CEMIG - Instalação {profile.installation} - Referência {short}"
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = make_msgid(idstring=f"contadigital.{profile.installation}", domain=domain)
    message["X-Mailer"] = "CEMIG Conta Digital"
    message.set_content(text)
    message.add_alternative(html_body, subtype="html")
    message.add_attachment(bill.pdf, maintype="application", subtype="pdf", filename=bill.filename)
    if dkim_key is None:
        return message
    if dkim_key.domain != domain:
        raise ValueError(f"DKIM key is for {dkim_key.domain!r}, the sender's domain is {domain!r}")
    raw = message.as_bytes(policy=email.policy.SMTP)
    signature = dkim.sign(
        raw,
        dkim_key.selector.encode("ascii"),
        dkim_key.domain.encode("ascii"),
        dkim_key.private_key_pem,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=_SIGNED_HEADERS,
    )
    signed = email.message_from_bytes(signature + raw, policy=email.policy.SMTP)
    assert isinstance(signed, EmailMessage)  # noqa: S101 - guaranteed by the policy's message factory
    return signed


def send_cycle(
    profiles: Iterable[InstallationProfile],
    cycle: str,
    *,
    smtp_host: str,
    smtp_port: int,
    dkim_key: DkimKey | None,
    sender: str = DEFAULT_SENDER,
    timeout: float = 10.0,
    now: datetime | None = None,
) -> CycleReport:
    """Send ``cycle``'s bill to every enrolled profile over one SMTP session.

    A recipient the server refuses is recorded as a failed delivery and the cycle goes on. Raises
    BillMailerError when the server cannot be reached or drops the session, and ValueError for a
    malformed cycle.
    """
    profiles = list(profiles)
    enrolled = [p for p in profiles if p.email]
    not_enrolled = tuple(p.installation for p in profiles if not p.email)
    envelope_from = parseaddr(sender)[1]
    deliveries = []
    try:
        with smtplib.SMTP(smtp_host, smtp_port, timeout=timeout) as smtp:
            for profile in enrolled:
                message = build_bill_message(
                    profile, generate_bill(profile, cycle), sender=sender, dkim_key=dkim_key, now=now
                )
                recipient = profile.email or ""
                try:
                    smtp.sendmail(envelope_from, [recipient], message.as_bytes(policy=email.policy.SMTP))
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                    deliveries.append(Delivery(profile.installation, recipient, message["Message-ID"], False, str(exc)))
                else:
                    deliveries.append(Delivery(profile.installation, recipient, message["Message-ID"], True))
    except (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as exc:
        raise BillMailerError(f"SMTP server {smtp_host}:{smtp_port} failed: {exc}") from exc
    return CycleReport(cycle=cycle, deliveries=tuple(deliveries), not_enrolled=not_enrolled)
