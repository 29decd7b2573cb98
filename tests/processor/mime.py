"""Real MIME messages for the mail pipeline's tests: real bill PDFs from the simulator's generator.

`bill_message` is what CEMIG's Conta Digital sends (the simulator's `build_bill_message`, DKIM-signed
with a key generated at run time); the other builders make the odd messages the pipeline must survive.
"""

from __future__ import annotations

import dataclasses
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache

from simulator.bills.generator import GeneratedBill, encrypt_pdf, generate_bill
from simulator.bills.profile import InstallationProfile
from simulator.mailer import DkimKey, build_bill_message, generate_dkim_key

SENDER = "CEMIG Conta Digital <contadigital@cemig.com.br>"


@lru_cache(maxsize=1)
def cemig_key() -> DkimKey:
    """One DKIM key for cemig.com.br per test session."""
    return generate_dkim_key()


def dns_for(*keys: DkimKey):
    """A dkimpy-style DNS lookup answering the keys' TXT records (nothing else resolves)."""
    records = {key.record_name: key.dns_txt for key in keys}

    def lookup(name: bytes, timeout: float = 5) -> bytes | None:
        record = records.get(name.decode("ascii").rstrip("."))
        return record.encode("ascii") if record is not None else None

    return lookup


def profile(installation: str, *, seed: int = 0, holder_document: str = "52998224725",
            pdf_password: str | None = None, uc_code: str | None = None) -> InstallationProfile:
    return InstallationProfile(installation=installation, customer_number=f"70{installation[2:]}",
                               holder_name=f"CLIENTE {installation[-4:]}", holder_document=holder_document,
                               address_lines=("RUA DAS FLORES 100", "CENTRO", "30110-000 BELO HORIZONTE, MG"),
                               email="placeholder@example.com", seed=seed, pdf_password=pdf_password,
                               uc_code=uc_code)


@lru_cache(maxsize=2048)
def bill(installation: str, cycle: str, seed: int = 0, pdf_password: str | None = None) -> GeneratedBill:
    """A generated bill, cached: generating costs ~25 ms."""
    return generate_bill(profile(installation, seed=seed, pdf_password=pdf_password), cycle)


def to_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=email.policy.SMTP)


def bill_message(to: str, installation: str, cycle: str, *, seed: int = 0, pdf_password: str | None = None,
                 sign: bool = True, key: DkimKey | None = None, generated: GeneratedBill | None = None,
                 extra_headers: dict[str, str] | None = None) -> bytes:
    """CEMIG's Conta Digital e-mail with the bill for `installation`/`cycle` sent to `to`."""
    prof = dataclasses.replace(profile(installation, seed=seed, pdf_password=pdf_password), email=to)
    generated = generated or bill(installation, cycle, seed, pdf_password)
    message = build_bill_message(prof, generated, sender=SENDER, dkim_key=(key or cemig_key()) if sign else None)
    raw = to_bytes(message)
    for name, value in (extra_headers or {}).items():
        raw = f"{name}: {value}\r\n".encode() + raw  # prepended, as an MTA adds trace headers
    return raw


def plain_message(to: str, *, subject: str = "Sua conta de energia", text: str = "Segue a conta.",
                  html: str | None = None, attachments: list[tuple[bytes, str, str, str]] = (),  # type: ignore[assignment]
                  date: bool = True, sign: bool = True, key: DkimKey | None = None) -> bytes:
    """A message built by hand; attachments are (bytes, maintype/subtype, filename, disposition)."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = SENDER
    message["To"] = to
    message["Subject"] = subject
    if date:
        message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="cemig.com.br")
    if html is not None and not text:
        message.set_content(html, subtype="html")
    else:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    for data, ctype, filename, disposition in attachments:
        maintype, subtype = ctype.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename,
                               disposition=disposition)
    return sign_bytes(to_bytes(message), key) if sign else to_bytes(message)


def sign_bytes(raw: bytes, key: DkimKey | None = None) -> bytes:
    import dkim

    key = key or cemig_key()
    signature = dkim.sign(raw, key.selector.encode(), key.domain.encode(), key.private_key_pem,
                          canonicalize=(b"relaxed", b"relaxed"),
                          include_headers=[b"From", b"To", b"Subject", b"Date", b"Message-ID"])
    return signature + raw


__all__ = ["bill", "bill_message", "cemig_key", "dns_for", "encrypt_pdf", "plain_message", "profile", "sign_bytes"]
