"""Forward: outbox rows, then SMTP — a new pt-BR message from our own domain with the original PDF attached.

Exactly once per (invoice, recipient): the outbox row is unique on that pair and is created in the same
transaction as the invoice, with our Message-ID chosen then. Sending is: mark the row `sending`
(attempts + 1, committed), hand the message to the relay, record `sent` with the relay's reply.

A crash between the relay's accept and our commit leaves a row in `sending`. Only the holder of the
row's outbox shard lease sends it, so a `sending` row seen by a new holder belongs to a dead worker: its
outcome is unknown. Policy `on_unconfirmed` decides: `resend` (default) sends it again with the *same* Message-ID,
so receiving systems and mail clients can treat both copies as one message (at worst the client sees the
same e-mail twice, never a second different bill; `unconfirmed_sends` counts these); `park` stops and
leaves it to an operator (`faturas mail retry`), who can look the Message-ID up in the relay's log.
Relay replies: 4xx and network errors are retried with exponential backoff, 5xx parks the row.
This module builds and hands over messages; `processor.outbox` runs the outbox under its lease.
"""

from __future__ import annotations

import secrets
import smtplib
import ssl
from decimal import Decimal
from email import charset as email_charset
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr

import dkim
import structlog
from sqlmodel import Session

from processor import oauth
from processor.config import MailSettings, SmtpRelay
from processor.errors import ForwardFailed, MailboxUnavailable
from processor.extract import safe_filename
from reports.economics import bill_economics
from reports.format import brl, kwh, month_label
from storage.mail_models import Forward, Invoice
from storage.models import Unit, utcnow
from storage.validators import format_uc_code

log = structlog.get_logger(__name__)
_WIRE = compat32.clone(linesep="\r\n")
_UTF8_QP = email_charset.Charset("utf-8")
_UTF8_QP.body_encoding = email_charset.QP  # the text stays readable in the raw message


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2].lower() or "localhost"


def queue_forwards(*, session: Session, invoice: Invoice, unit: Unit, settings: MailSettings,
                   unparsed: bool = False) -> int:
    """Create the outbox rows of a new invoice (none when forwarding is off or the bill needs review).

    `unparsed` (an authentic bill in a layout no parser knows, `mail.forward_unparsed` on) is forwarded
    although it waits for review: the client gets the bill, the integrator checks its figures.
    """
    if not unit.email_bills_enabled or "payee_mismatch" in (invoice.review_reasons or []):
        return 0  # a bill paying someone else is never forwarded, whoever asks (processor.payee)
    if invoice.status != "parsed" and not (unparsed and settings.forward_unparsed):
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


def _address(value: str) -> str:
    """An address header value, its display name RFC 2047-encoded when it is not ASCII."""
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if name else (address or value)


def _text_header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


def _unit_number(data: dict, unit: Unit) -> str:
    """The number the client knows: the installation (the bill's, else the unit's), else the UC code as printed."""
    installation = data.get("installation") or unit.installation
    if installation:
        return installation
    code = data.get("uc_code") or unit.uc_code
    return format_uc_code(code) if code else "-"


def _headers(message: MIMEMultipart, *, forward: Forward, invoice: Invoice, settings: MailSettings,
             subject: str) -> None:
    message["From"] = _address(settings.from_address)
    message["To"] = forward.recipient
    if settings.reply_to:
        message["Reply-To"] = _address(settings.reply_to)
    message["Subject"] = _text_header(subject)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = forward.message_id
    message["X-Faturas-Invoice"] = str(invoice.id)


def _attach(message: MIMEMultipart, pdf: bytes, filename: str) -> None:
    attachment = MIMEApplication(pdf, "pdf")
    attachment.add_header("Content-Disposition", "attachment",
                          filename=filename if filename.isascii() else ("utf-8", "", filename))
    message.attach(attachment)


def _compose_unparsed(*, forward: Forward, invoice: Invoice, unit: Unit, pdf: bytes,
                      settings: MailSettings) -> Message:
    """A bill in a layout no parser knows: the original PDF, and a body that says no summary is available."""
    data = invoice.data
    number = _unit_number(data, unit)
    month = invoice.reference_month
    when = f"{month[5:]}/{month[:4]}" if len(month) == 7 else "mês não identificado"
    message = MIMEMultipart()
    _headers(message, forward=forward, invoice=invoice, settings=settings,
             subject=f"Fatura {unit.utility.upper()} {when} - instalação {number}")
    lines = [
        f"Olá, {unit.client_name}.",
        "",
        f"Chegou uma fatura de energia da {unit.utility.upper()} da instalação {number}. O resumo da fatura não "
        "está disponível: ela veio num modelo novo, que ainda será conferido. Confira os valores no PDF anexo.",
        "",
    ]
    if invoice.amount_due is not None:
        lines.append(f"Valor a pagar (lido do código de barras): {_money(invoice.amount_due)}")
    if data.get("due_date"):
        lines.append(f"Vencimento: {_br_date(data.get('due_date'))}")
    lines += ["", "A fatura original segue anexa em PDF.", "",
              "Mensagem automática do serviço de faturas. Em caso de dúvida, responda a este e-mail.", ""]
    message.attach(MIMEText("\n".join(lines), "plain", _UTF8_QP))
    _attach(message, pdf, invoice.pdf_filename or f"fatura-{number}.pdf")
    return message


def _summary(invoice: Invoice) -> list[str]:
    """The three-line summary an integrator's client reads first: amount, savings with solar, credit balance."""
    economics = bill_economics(invoice.data, amount_due=invoice.amount_due, consumption_kwh=invoice.consumption_kwh)
    if economics.savings is None or economics.savings <= 0:
        return []
    month = month_label(invoice.reference_month)
    return [f"Resumo de {month}:",
            f"- Valor da fatura: {brl(invoice.amount_due)}",
            f"- Economia com energia solar: {brl(economics.savings)} (sem energia solar, seriam "
            f"{brl(economics.without_solar)})",
            f"- Saldo de créditos: {kwh(invoice.credit_balance_kwh)}",
            ""]


def compose(*, forward: Forward, invoice: Invoice, unit: Unit, pdf: bytes, settings: MailSettings,
            report_pdf: bytes | None = None) -> Message:
    """The pt-BR message for one forward (same bytes every time, bar the Date, boundary and signature).

    `report_pdf` (the unit's monthly report, when the integrator turned `forward_report` on) is attached after
    the bill, and the body says so.

    Built with the compat32 classes: the modern `EmailMessage` API builds a header object per header and
    took 2–3 ms per forward here, about a tenth of a bill's whole cost in the pipeline.
    """
    data = invoice.data
    if invoice.layout == "generic":
        return _compose_unparsed(forward=forward, invoice=invoice, unit=unit, pdf=pdf, settings=settings)
    scee = data.get("scee") or {}
    year, month = invoice.reference_month.split("-")
    installation = _unit_number(data, unit)
    reissue = invoice.version > 1
    message = MIMEMultipart()
    message["From"] = _address(settings.from_address)
    message["To"] = forward.recipient
    if settings.reply_to:
        message["Reply-To"] = _address(settings.reply_to)
    message["Subject"] = _text_header(
        f"{'[Reemissão] ' if reissue else ''}Fatura {unit.utility.upper()} {month}/{year} - "
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
        *_summary(invoice),
        f"Valor a pagar: {_money(invoice.amount_due)}",
        f"Vencimento: {_br_date(data.get('due_date'))}",
        f"Consumo: {_number(data.get('consumption_kwh'), 'kWh')}",
        f"Energia compensada: {_number(scee.get('compensated_kwh'), 'kWh')}",
        f"Saldo de créditos: {_number(scee.get('credit_balance_kwh'), 'kWh')}",
        f"Linha digitável: {_linha(data.get('barcode'))}",
        "",
        "A fatura original segue anexa em PDF.",
        *([f"O relatório detalhado da unidade até {month}/{year} segue anexo em PDF ({_report_name(invoice)})."]
          if report_pdf is not None else []),
        "",
        "Mensagem automática do serviço de faturas. Em caso de dúvida, responda a este e-mail.",
        "",
    ]
    message.attach(MIMEText("\n".join(lines), "plain", _UTF8_QP))
    # Sanitised again: bills stored before names were cleaned at extraction may hold a path.
    filename = safe_filename(invoice.pdf_filename) or f"fatura-{installation}-{year}-{month}.pdf"
    attachment = MIMEApplication(pdf, "pdf")
    attachment.add_header("Content-Disposition", "attachment",
                          filename=filename if filename.isascii() else ("utf-8", "", filename))
    message.attach(attachment)
    if report_pdf is not None:
        _attach(message, report_pdf, _report_name(invoice))
    return message


def _report_name(invoice: Invoice) -> str:
    year, month = invoice.reference_month.split("-")
    return f"relatorio-{year}-{month}.pdf"


def to_wire(message: Message, *, settings: MailSettings, dkim_key: bytes | None) -> bytes:
    """The bytes handed to the relay (CRLF line ends), DKIM-signed for our From domain when a key is configured."""
    raw = message.as_bytes(policy=_WIRE)
    if dkim_key is None:
        return raw
    signature = dkim.sign(raw, settings.dkim_selector.encode("ascii"),
                          _domain(settings.from_address).encode("ascii"), dkim_key,
                          canonicalize=(b"relaxed", b"relaxed"),
                          include_headers=[b"From", b"To", b"Subject", b"Date", b"Message-ID", b"Reply-To"])
    return signature + raw


def connect(relay: SmtpRelay) -> smtplib.SMTP:
    """An SMTP connection to the relay (TLS and login as configured); raises OSError or SMTPException."""
    if relay.tls == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(relay.host, relay.port, timeout=relay.timeout,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout)
        if relay.tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if relay.auth == "xoauth2":
        _xoauth2_login(smtp, relay)
    elif relay.user and relay.password is not None:
        smtp.login(relay.user, relay.password.get_secret_value())
    return smtp


def _xoauth2_login(smtp: smtplib.SMTP, relay: SmtpRelay) -> None:
    """AUTH XOAUTH2; a 535 gets one retry with a refreshed token.

    A refused refresh token (the state mailbox_auth_expired, logged by processor.oauth) surfaces as
    SMTPAuthenticationError: the relay is down for this run and the forwards wait.
    """
    assert relay.oauth is not None and relay.user  # the settings validate both
    smtp.ehlo_or_helo_if_needed()
    for attempt in (0, 1):
        try:
            token = oauth.access_token(relay.oauth, account="smtp", force=attempt == 1, timeout=relay.timeout)
        except MailboxUnavailable as exc:
            smtp.close()
            raise smtplib.SMTPAuthenticationError(535, str(exc).encode()) from exc
        initial = oauth.xoauth2_string(relay.user, token)
        try:  # smtplib base64-encodes; a second call answers the server's error challenge with an empty line
            smtp.auth("XOAUTH2", lambda challenge=None, first=initial: first if challenge is None else "")
            return
        except smtplib.SMTPAuthenticationError:
            if attempt == 1:
                smtp.close()
                raise
            log.info("smtp_token_rejected", host=relay.host)


def send(smtp: smtplib.SMTP, wire: bytes, *, envelope_from: str, recipient: str) -> str:
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


def close(smtp: smtplib.SMTP) -> None:
    """QUIT, or just drop the connection when it is already broken."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
