"""Forward: outbox rows, then SMTP — a new pt-BR message from our own domain with the original PDF attached.

Exactly once per (invoice, recipient): the outbox row is unique on that pair and is created in the same
transaction as the invoice, with our Message-ID chosen then. Sending is: mark the row `sending`
(attempts + 1, committed), hand the message to the relay, record `sent` with the relay's reply.

A crash between the relay's accept and our commit leaves a row in `sending`. Only the holder of the
`outbox` lease sends, so a `sending` row seen by a new holder belongs to a dead worker: its outcome is
unknown. Policy `on_unconfirmed` decides: `resend` (default) sends it again with the *same* Message-ID,
so receiving systems and mail clients can treat both copies as one message (at worst the client sees the
same e-mail twice, never a second different bill; `unconfirmed_sends` counts these); `park` stops and
leaves it to an operator (`faturas mail retry`), who can look the Message-ID up in the relay's log.
Relay replies: 4xx and network errors are retried with exponential backoff, 5xx parks the row.
"""

from __future__ import annotations

import secrets
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, parseaddr

import dkim
import structlog
from sqlalchemy import Engine
from sqlmodel import Session

from processor.config import MailSettings, SmtpRelay
from processor.errors import ForwardFailed
from storage.blobs import BlobStore
from storage.engine import session_scope
from storage.mail import acquire_lease, due_forwards, interrupted_forwards, release_lease
from storage.mail_models import Forward, ForwardStatus, Invoice
from storage.models import Unit, utcnow

log = structlog.get_logger(__name__)
OUTBOX_LEASE = "outbox"
MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class OutboxReport:
    """What one outbox run did."""

    sent: int = 0
    retried: int = 0
    parked: int = 0
    unconfirmed: int = 0
    relay_unavailable: bool = False
    busy: bool = False


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2].lower() or "localhost"


def queue_forwards(*, session: Session, invoice: Invoice, unit: Unit, settings: MailSettings) -> int:
    """Create the outbox rows of a new invoice (none when forwarding is off or the bill needs review)."""
    if not unit.email_bills_enabled or invoice.status != "parsed":
        return 0
    count = 0
    for recipient in dict.fromkeys(a.lower() for a in unit.forward_to):
        message_id = f"<fatura.{invoice.id}.{count}.{secrets.token_hex(6)}@{_domain(settings.from_address)}>"
        session.add(Forward(invoice_id=invoice.id or 0, recipient=recipient, message_id=message_id))
        count += 1
    return count


def _money(value: Decimal | str | None) -> str:
    if value is None:
        return "-"
    text = f"{Decimal(value):,.2f}"
    return "R$ " + text.replace(",", "X").replace(".", ",").replace("X", ".")


def _number(value: str | None, unit: str) -> str:
    if value is None:
        return "-"
    text = f"{Decimal(value):,.2f}".rstrip("0").rstrip(".")
    return text.replace(",", "X").replace(".", ",").replace("X", ".") + f" {unit}"


def _br_date(value: str | None) -> str:
    if not value:
        return "-"
    year, month, day = value.split("-")
    return f"{day}/{month}/{year}"


def _linha(barcode: str | None) -> str:
    if not barcode or len(barcode) != 48:
        return barcode or "-"
    return " ".join(f"{barcode[i:i + 11]}-{barcode[i + 11]}" for i in range(0, 48, 12))


def compose(*, forward: Forward, invoice: Invoice, unit: Unit, pdf: bytes, settings: MailSettings) -> EmailMessage:
    """The pt-BR message for one forward (same bytes every time, bar the Date and signature)."""
    data = invoice.data
    scee = data.get("scee") or {}
    year, month = invoice.reference_month.split("-")
    installation = data.get("installation") or unit.installation or unit.uc_code or "-"
    reissue = invoice.version > 1
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = settings.from_address
    message["To"] = forward.recipient
    if settings.reply_to:
        message["Reply-To"] = settings.reply_to
    message["Subject"] = (f"{'[Reemissão] ' if reissue else ''}Fatura {unit.utility.upper()} {month}/{year} - "
                          f"instalação {installation} - {_money(invoice.amount_due)}")
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = forward.message_id
    message["X-Faturas-Invoice"] = str(invoice.id)
    lines = [
        f"Olá, {unit.client_name}.",
        "",
        (f"A {unit.utility.upper()} reemitiu a fatura de energia da instalação {installation}, referente a "
         f"{month}/{year}. Esta versão substitui a anterior." if reissue else
         f"Chegou a fatura de energia da {unit.utility.upper()} da instalação {installation}, referente a "
         f"{month}/{year}."),
        "",
        f"Valor a pagar: {_money(invoice.amount_due)}",
        f"Vencimento: {_br_date(data.get('due_date'))}",
        f"Consumo: {_number(data.get('consumption_kwh'), 'kWh')}",
        f"Energia compensada: {_number(scee.get('compensated_kwh'), 'kWh')}",
        f"Saldo de créditos: {_number(scee.get('credit_balance_kwh'), 'kWh')}",
        f"Linha digitável: {_linha(data.get('barcode'))}",
        "",
        "A fatura original segue anexa em PDF.",
        "",
        "Mensagem automática do serviço de faturas. Em caso de dúvida, responda a este e-mail.",
        "",
    ]
    message.set_content("\n".join(lines))
    filename = invoice.pdf_filename or f"fatura-{installation}-{year}-{month}.pdf"
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    return message


def to_wire(message: EmailMessage, *, settings: MailSettings, dkim_key: bytes | None) -> bytes:
    """The bytes handed to the relay, DKIM-signed for our From domain when a key is configured."""
    raw = message.as_bytes(policy=SMTP_POLICY)
    if dkim_key is None:
        return raw
    signature = dkim.sign(raw, settings.dkim_selector.encode("ascii"),
                          _domain(settings.from_address).encode("ascii"), dkim_key,
                          canonicalize=(b"relaxed", b"relaxed"),
                          include_headers=[b"From", b"To", b"Subject", b"Date", b"Message-ID", b"Reply-To"])
    return signature + raw


def _connect(relay: SmtpRelay) -> smtplib.SMTP:
    if relay.tls == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(relay.host, relay.port, timeout=relay.timeout,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout)
        if relay.tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if relay.user and relay.password is not None:
        smtp.login(relay.user, relay.password.get_secret_value())
    return smtp


def _send(smtp: smtplib.SMTP, wire: bytes, *, envelope_from: str, recipient: str) -> str:
    """Hand one message to the relay; translates smtplib errors to ForwardFailed."""
    try:
        refused = smtp.sendmail(envelope_from, [recipient], wire)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        raise ForwardFailed(f"recipient refused: {code} {text!r}", permanent=500 <= code < 600,
                            response=f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
                            ) from exc
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        reply = f"{exc.smtp_code} {text}"
        raise ForwardFailed(f"relay replied {reply}", permanent=500 <= exc.smtp_code < 600,
                            response=reply) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise ForwardFailed(f"relay connection failed: {type(exc).__name__}", permanent=False) from exc
    if refused:
        code, text = next(iter(refused.values()))
        raise ForwardFailed(f"recipient refused: {code}", permanent=500 <= code < 600, response=f"{code} {text!r}")
    return "250 accepted"


def _recover(engine: Engine, settings: MailSettings) -> int:
    """Rows a dead worker left in `sending`: resend with the same Message-ID, or park (see module docstring)."""
    with session_scope(engine) as session:
        rows = interrupted_forwards(session=session)
        for row in rows:
            row.unconfirmed_sends += 1
            row.updated_at = utcnow()
            if settings.on_unconfirmed == "park":
                row.status = ForwardStatus.PARKED.value
                row.smtp_response = "outcome unknown: the worker stopped during the SMTP transaction"
            else:
                row.status = ForwardStatus.PENDING.value
                row.next_attempt_at = None
            session.add(row)
            log.warning("forward_outcome_unknown", forward_id=row.id, invoice_id=row.invoice_id,
                        message_id=row.message_id, action=settings.on_unconfirmed)
    return len(rows)


def _record_failure(engine: Engine, forward_id: int, error: ForwardFailed, settings: MailSettings,
                    now: datetime) -> str:
    with session_scope(engine) as session:
        row = session.get(Forward, forward_id)
        assert row is not None  # noqa: S101 - we hold the outbox lease; rows are never deleted meanwhile
        row.smtp_response = (error.response or str(error))[:1000]
        row.updated_at = utcnow()
        if error.permanent or row.attempts >= settings.forward_max_attempts:
            row.status = ForwardStatus.PARKED.value
        else:
            row.status = ForwardStatus.PENDING.value
            delay = timedelta(seconds=settings.forward_backoff_seconds * 2 ** (row.attempts - 1))
            row.next_attempt_at = now + min(delay, MAX_BACKOFF)
        session.add(row)
        return row.status


def send_outbox(*, engine: Engine, settings: MailSettings, blobs: BlobStore, owner: str,
                now: Callable[[], datetime] = utcnow, dkim_key: bytes | None = None) -> OutboxReport:
    """Send every due forward once, under the outbox lease; returns counts. Never raises for SMTP trouble."""
    if settings.smtp is None:
        return OutboxReport(relay_unavailable=True)
    with session_scope(engine) as session:
        if not acquire_lease(session=session, name=OUTBOX_LEASE, owner=owner, seconds=settings.lease_seconds):
            log.info("outbox_busy")
            return OutboxReport(busy=True)
    counts = {"sent": 0, "retried": 0, "parked": 0}
    unconfirmed = _recover(engine, settings)
    relay_down = False
    attempted: set[int] = set()
    envelope_from = parseaddr(settings.from_address)[1]
    smtp: smtplib.SMTP | None = None
    try:
        while not relay_down:
            with session_scope(engine) as session:
                acquire_lease(session=session, name=OUTBOX_LEASE, owner=owner, seconds=settings.lease_seconds)
                batch = [r.id for r in due_forwards(session=session, now=now(), limit=200) if r.id not in attempted]
            if not batch:
                break
            for forward_id in batch:
                assert forward_id is not None  # noqa: S101
                attempted.add(forward_id)
                if smtp is None:
                    try:
                        smtp = _connect(settings.smtp)
                    except (OSError, smtplib.SMTPException) as exc:
                        log.warning("smtp_unavailable", host=settings.smtp.host, port=settings.smtp.port,
                                    error=type(exc).__name__)
                        relay_down = True
                        break
                with session_scope(engine) as session:
                    row = session.get(Forward, forward_id)
                    if row is None or row.status != ForwardStatus.PENDING.value:
                        continue
                    invoice = session.get(Invoice, row.invoice_id)
                    unit = session.get(Unit, invoice.unit_id) if invoice else None
                    if invoice is None or unit is None:
                        continue
                    try:
                        message = compose(forward=row, invoice=invoice, unit=unit,
                                          pdf=blobs.get(invoice.pdf_sha256), settings=settings)
                        wire = to_wire(message, settings=settings, dkim_key=dkim_key)
                    except (OSError, ValueError, dkim.DKIMException) as exc:  # a missing blob, a bad key
                        row.status, row.updated_at = ForwardStatus.PARKED.value, utcnow()
                        row.smtp_response = f"not sent: the message could not be built ({type(exc).__name__})"
                        session.add(row)
                        counts["parked"] += 1
                        log.error("forward_not_built", forward_id=forward_id, error=type(exc).__name__)
                        continue
                    row.status = ForwardStatus.SENDING.value
                    row.attempts += 1
                    row.updated_at = utcnow()
                    session.add(row)
                    recipient, invoice_id = row.recipient, row.invoice_id
                try:
                    reply = _send(smtp, wire, envelope_from=envelope_from, recipient=recipient)
                except ForwardFailed as error:
                    status = _record_failure(engine, forward_id, error, settings, now())
                    counts["parked" if status == ForwardStatus.PARKED.value else "retried"] += 1
                    log.warning("forward_failed", forward_id=forward_id, invoice_id=invoice_id,
                                permanent=error.permanent, status=status, error=str(error))
                    if not error.permanent and error.response is None:  # the connection is gone
                        _close(smtp)
                        smtp = None
                        relay_down = True
                        break
                    continue
                with session_scope(engine) as session:
                    row = session.get(Forward, forward_id)
                    assert row is not None  # noqa: S101
                    row.status = ForwardStatus.SENT.value
                    row.smtp_response = reply
                    row.sent_at = row.updated_at = utcnow()
                    session.add(row)
                counts["sent"] += 1
                log.info("bill_forwarded", forward_id=forward_id, invoice_id=invoice_id,
                         message_id=message["Message-ID"])
    finally:
        if smtp is not None:
            _close(smtp)
        with session_scope(engine) as session:
            release_lease(session=session, name=OUTBOX_LEASE, owner=owner)
    return OutboxReport(sent=counts["sent"], retried=counts["retried"], parked=counts["parked"],
                        unconfirmed=unconfirmed, relay_unavailable=relay_down)


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
