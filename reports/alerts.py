"""Alerts on a unit's bills: named, dated items with who must act, computed from the report's rows.

Each rule looks at the newest stored bill against the unit's own past; thresholds come from the settings
(`[report]`). The rules, and why integrators want them:
- `consumption_spike`: grid consumption more than X % above the unit's average of the previous 12 months
  (a new appliance, a fault, or a generation drop).
- `amount_spike`: the amount more than X % above the same month last year (2026 bills bring billing errors).
- `credits_growing`: the credit balance grew N months in a row (excess generation: credits expire after
  60 months; move them to a beneficiary).
- `credits_unused`: grid energy was paid for beyond the availability minimum while credits were left.
- `bill_missing`: the watchdog found that the expected bill did not arrive.
- `payee_mismatch`: a bill arrived whose barcode or PIX QR pays someone but the utility (a fake bill, see
  processor.payee); it was stored and not forwarded. Raised for PAYEE_ALERT_DAYS after it arrived.
- `reading_estimated`: the newest bill was billed by average, an estimated or a client-informed reading, not
  by a meter reading (the difference comes back on a later bill, and the month's figures are not measured).
Credits about to expire are not a rule: CEMIG's bills do not print them (the report says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from reports.format import kwh, month_label, number, percent
from reports.monthly import SOURCE_BILL, MonthRow
from storage.mail_models import Invoice

PAYEE_ALERT_DAYS = 60
MIN_COMPENSABLE_KWH = Decimal(1)
"""CEMIG compensates whole kWh: a balance under 1 kWh cannot be used, so it is not "credits left"."""

# ANEEL's availability minimum (REN 1.000, art. 291): what a low-voltage unit pays for at least, per supply.
AVAILABILITY_MINIMUM_KWH = {"monofasico": Decimal(30), "bifasico": Decimal(50), "trifasico": Decimal(100)}


@dataclass(frozen=True)
class AlertThresholds:
    """The configurable limits of the rules."""

    consumption_above_average_pct: Decimal = Decimal(30)
    amount_above_last_year_pct: Decimal = Decimal(30)
    credit_growth_months: int = 6


@dataclass(frozen=True)
class Alert:
    """One alert: what, for which month, who must act, and a pt-BR explanation."""

    code: str
    unit_id: int
    month: str | None
    actor: str
    title: str
    detail: str
    raised_on: date


def _stored(rows: Sequence[MonthRow]) -> list[MonthRow]:
    return [r for r in rows if r.source == SOURCE_BILL]


def _previous_year(month: str) -> str:
    year, number_ = month.split("-")
    return f"{int(year) - 1}-{number_}"


def _consumption_spike(unit_id: int, rows: Sequence[MonthRow], limits: AlertThresholds,
                       today: date) -> Alert | None:
    newest = _stored(rows)[-1]
    past = [r.consumption_kwh for r in rows if r.month < newest.month and r.consumption_kwh is not None][-12:]
    if newest.consumption_kwh is None or len(past) < 3:
        return None
    average = sum(past, Decimal(0)) / len(past)
    if average <= 0 or newest.consumption_kwh <= average * (1 + limits.consumption_above_average_pct / 100):
        return None
    above = (newest.consumption_kwh / average - 1) * 100
    return Alert("consumption_spike", unit_id, newest.month, "integrator", "Consumo acima da média",
                 f"Em {month_label(newest.month)} o consumo da rede foi {kwh(newest.consumption_kwh)}, "
                 f"{percent(above.quantize(Decimal('0.1')))} acima da média dos {len(past)} meses anteriores "
                 f"({kwh(average.quantize(Decimal(1)))}).", today)


def _amount_spike(unit_id: int, rows: Sequence[MonthRow], limits: AlertThresholds, today: date) -> Alert | None:
    newest = _stored(rows)[-1]
    last_year = next((r for r in rows if r.month == _previous_year(newest.month) and r.amount_due), None)
    if newest.amount_due is None or last_year is None or last_year.amount_due is None or last_year.amount_due <= 0:
        return None
    if newest.amount_due <= last_year.amount_due * (1 + limits.amount_above_last_year_pct / 100):
        return None
    above = (newest.amount_due / last_year.amount_due - 1) * 100
    return Alert("amount_spike", unit_id, newest.month, "integrator", "Valor acima do mesmo mês do ano anterior",
                 f"A fatura de {month_label(newest.month)} é de R$ {number(newest.amount_due, 2)}, "
                 f"{percent(above.quantize(Decimal('0.1')))} acima de {month_label(last_year.month)} "
                 f"(R$ {number(last_year.amount_due, 2)}). Confira a leitura e as linhas da fatura.", today)


def _credits_growing(unit_id: int, rows: Sequence[MonthRow], limits: AlertThresholds, today: date) -> Alert | None:
    balances = [r for r in _stored(rows) if r.credit_balance_kwh is not None]
    run = balances[-(limits.credit_growth_months + 1):]
    if len(run) < limits.credit_growth_months + 1:
        return None
    if not all(b.credit_balance_kwh > a.credit_balance_kwh for a, b in zip(run, run[1:], strict=False)):
        return None
    newest = run[-1]
    return Alert("credits_growing", unit_id, newest.month, "integrator", "Créditos acumulando",
                 f"O saldo de créditos cresceu {limits.credit_growth_months} meses seguidos e chegou a "
                 f"{kwh(newest.credit_balance_kwh)} em {month_label(newest.month)}. Créditos expiram em 60 meses: "
                 "considere transferir parte deles para uma unidade beneficiária.", today)


def _credits_unused(unit_id: int, rows: Sequence[MonthRow], today: date) -> Alert | None:
    newest = _stored(rows)[-1]
    minimum = AVAILABILITY_MINIMUM_KWH.get(newest.supply_type or "")
    if (minimum is None or newest.consumption_kwh is None
            or newest.credit_balance_kwh is None or newest.credit_balance_kwh < MIN_COMPENSABLE_KWH):
        return None
    # A bill that prints a credit balance but no compensation line compensated nothing (a billing error).
    compensated = newest.compensated_kwh if newest.compensated_kwh is not None else Decimal(0)
    billable = newest.consumption_kwh - minimum
    if compensated >= billable:
        return None
    return Alert("credits_unused", unit_id, newest.month, "integrator", "Energia compensada abaixo do possível",
                 f"Em {month_label(newest.month)} foram compensados {kwh(compensated)} de "
                 f"{kwh(billable)} que poderiam ser compensados, com {kwh(newest.credit_balance_kwh)} de saldo. "
                 "Verifique o rateio dos créditos junto à concessionária.", today)


def payee_mismatch_alerts(unit_id: int, invoices: Sequence[Invoice], *, today: date) -> list[Alert]:
    """One alert per bill whose payment data named someone else, for PAYEE_ALERT_DAYS after it arrived."""
    out = []
    for invoice in invoices:
        if "payee_mismatch" not in (invoice.review_reasons or []):
            continue
        if invoice.created_at is not None and invoice.created_at.date() < today - timedelta(days=PAYEE_ALERT_DAYS):
            continue
        month = invoice.reference_month or None
        when = f"de {month_label(month)} " if month else ""
        out.append(Alert("payee_mismatch", unit_id, month, "integrator", "Fatura com pagamento para terceiros",
                         f"Chegou uma fatura {when}cujo código de barras ou QR code Pix não paga a distribuidora. "
                         "Ela foi guardada e NÃO foi encaminhada ao cliente: pode ser uma fatura falsa. Confira a "
                         "conta no site da distribuidora e avise o cliente para não pagá-la.", today))
    return out


READING_BASIS_PT = {"average": "pela média (leitura não realizada)", "estimated": "por leitura estimada",
                    "informed": "por leitura informada pelo cliente"}


def _reading_estimated(unit_id: int, rows: Sequence[MonthRow], today: date) -> Alert | None:
    newest = _stored(rows)[-1]
    how = READING_BASIS_PT.get(newest.reading_basis or "")
    if how is None:
        return None
    return Alert("reading_estimated", unit_id, newest.month, "integrator", "Consumo sem leitura do medidor",
                 f"A fatura de {month_label(newest.month)} foi faturada {how}. O consumo e a compensação deste mês "
                 "não foram medidos: a diferença vem numa próxima fatura. Confira o acesso ao medidor com o "
                 "cliente.", today)


def unit_alerts(unit_id: int, rows: Sequence[MonthRow], *, adhesion_status: str | None = None,
                limits: AlertThresholds | None = None, today: date | None = None,
                payee_mismatches: Sequence[Invoice] = ()) -> list[Alert]:
    """Every alert that holds for a unit now, newest bill first in mind.

    `payee_mismatches` are the unit's bills that paid someone else (storage.invoices.payee_mismatches).
    """
    limits = limits or AlertThresholds()
    today = today or date.today()
    alerts: list[Alert | None] = list(payee_mismatch_alerts(unit_id, payee_mismatches, today=today))
    if adhesion_status == "bill_overdue":
        alerts.append(Alert("bill_missing", unit_id, None, "operator", "Fatura não chegou",
                            "A fatura esperada para este ciclo não chegou à caixa de e-mail. Confira a adesão à "
                            "Conta Digital no portal da concessionária.", today))
    if _stored(rows):
        alerts += [_consumption_spike(unit_id, rows, limits, today), _amount_spike(unit_id, rows, limits, today),
                   _credits_growing(unit_id, rows, limits, today), _credits_unused(unit_id, rows, today),
                   _reading_estimated(unit_id, rows, today)]
    return [a for a in alerts if a is not None]
