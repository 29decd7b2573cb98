"""The daily alert digest (`report.digest = true`): one pt-BR e-mail a day to each integrator with alerts.

Each integrator's day is claimed by inserting its `alert_digest` row and committing before anything is sent,
so two workers never send the same digest and a crash after the claim sends nothing twice (that day's digest
is then lost, which a daily summary can afford; the dashboard shows the same alerts). No transaction is open
while the relay is talked to.
"""

from __future__ import annotations

import email.policy
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid

import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from config.context import AppContext
from config.settings import Settings
from processor.forward import connect
from reports.alerts import Alert, AlertThresholds, unit_alerts
from reports.format import date_br, month_label
from reports.monthly import monthly_rows
from storage.engine import session_scope
from storage.generation import AlertDigest
from storage.invoices import list_invoices, payee_mismatches
from storage.models import Unit, utcnow
from storage.web_models import Integrator

log = structlog.get_logger(__name__)
ACTORS_PT = {"integrator": "você", "operator": "o operador", "client": "o cliente", "developer": "o suporte técnico"}


@dataclass(frozen=True)
class DigestReport:
    """What one run did."""

    sent: int
    skipped: int
    failed: int


def thresholds(settings: Settings) -> AlertThresholds:
    """The alert rules' limits from the settings' `[report]` table (the dashboard uses the same)."""
    return AlertThresholds(consumption_above_average_pct=settings.report_consumption_above_average_pct,
                           amount_above_last_year_pct=settings.report_amount_above_last_year_pct,
                           credit_growth_months=settings.report_credit_growth_months)


def alerts_by_integrator(app: AppContext, *, today: date) -> dict[int, tuple[str, list[tuple[Unit, Alert]]]]:
    """Every active integrator with at least one alert: (e-mail, [(unit, alert), …])."""
    found: dict[int, tuple[str, list[tuple[Unit, Alert]]]] = {}
    limits = thresholds(app.settings)
    with session_scope(app.engine) as session:
        integrators = session.exec(select(Integrator).where(Integrator.active == True)).all()  # noqa: E712
        for integrator in integrators:
            units = session.exec(select(Unit).where(Unit.integrator_id == integrator.id).order_by(Unit.id)).all()
            items = []
            for unit in units:
                rows = monthly_rows(list_invoices(session=session, unit_id=unit.id))
                fakes = payee_mismatches(session=session, unit_id=unit.id or 0)
                items += [(unit, a) for a in unit_alerts(unit.id or 0, rows, adhesion_status=unit.adhesion_status,
                                                        limits=limits, today=today, payee_mismatches=fakes)]
                session.expunge(unit)
            if items:
                found[integrator.id or 0] = (integrator.email, items)
    return found


def compose_digest(*, to: str, items: list[tuple[Unit, Alert]], today: date, sender: str) -> MIMEText:
    """The digest e-mail (pt-BR, plain text)."""
    lines = [f"Alertas das suas unidades em {date_br(today)}:", ""]
    for unit, alert in items:
        month = f" ({month_label(alert.month)})" if alert.month else ""
        lines += [f"- {unit.client_name}, instalação {unit.installation or unit.uc_code}: {alert.title}{month}.",
                  f"  {alert.detail} Quem deve agir: {ACTORS_PT.get(alert.actor, alert.actor)}.", ""]
    lines += ["Os mesmos alertas estão no painel, na página de cada unidade.", "",
              "Mensagem automática do serviço de faturas."]
    message = MIMEText("\n".join(lines), "plain", "utf-8")
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"Faturas: {len(items)} alerta(s) em {date_br(today)}"
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(" >"))
    return message


def _claim(app: AppContext, integrator_id: int, day: str, alerts: int) -> bool:
    try:
        with session_scope(app.engine) as session:
            session.add(AlertDigest(integrator_id=integrator_id, day=day, alerts=alerts))
    except IntegrityError:
        return False
    return True


def send_digests(app: AppContext, *, today: date,
                 smtp_factory: Callable[[], smtplib.SMTP] | None = None) -> DigestReport:
    """Send today's digest to each integrator that has alerts and has not had one today."""
    relay = app.settings.mail.smtp
    if relay is None:
        return DigestReport(sent=0, skipped=0, failed=0)
    factory = smtp_factory or (lambda: connect(relay))
    sent = skipped = failed = 0
    for integrator_id, (address, items) in alerts_by_integrator(app, today=today).items():
        if not _claim(app, integrator_id, today.isoformat(), len(items)):
            skipped += 1
            continue
        message = compose_digest(to=address, items=items, today=today, sender=app.settings.mail.from_address)
        try:
            smtp = factory()
            try:
                # CRLF line ends: smtplib sends bytes as they are, and a relay reads a bare-LF message as one
                # line, refusing any digest over 1000 bytes ("Line too long").
                smtp.sendmail(message["From"], [address], message.as_bytes(policy=email.policy.SMTP))
            finally:
                smtp.quit()
        except (OSError, smtplib.SMTPException) as exc:
            failed += 1
            log.warning("alert_digest_failed", integrator_id=integrator_id, error=type(exc).__name__)
            continue
        with session_scope(app.engine) as session:
            row = session.get(AlertDigest, (integrator_id, today.isoformat()))
            if row is not None:
                row.sent_at = utcnow()
                session.add(row)
        sent += 1
        log.info("alert_digest_sent", integrator_id=integrator_id, alerts=len(items))
    return DigestReport(sent=sent, skipped=skipped, failed=failed)
