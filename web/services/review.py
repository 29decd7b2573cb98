"""The review screen: a bill waiting for a person, its fields with where each came from, and the correction form.

A bill is up for review when a check failed (`needs_review`) or when no layout parser knew it and it was
read generically (a "review item", `layout_unknown`). The integrator confirms what was read or corrects it;
every value is validated here with a pt-BR message next to its field, and only a complete, consistent set
is saved: the bill then becomes `parsed`, with `reviewed_by`, and the report uses the confirmed figures.
A reviewed bill that had never been forwarded (a failed check keeps a bill back) is queued for its client
then; one whose barcode pays anyone but the utility can never be confirmed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlmodel import Session

from config.context import AppContext
from processor.forward import queue_forwards
from processor.parse.checkdigits import linha_digitavel_amount
from reports.format import brl
from storage.invoices import SCEE_FIELDS, forwards_of, invoices_to_review, month_taken, record_review
from storage.mail_models import Invoice, InvoiceStatus
from storage.models import Unit, utcnow
from storage.units import learn_uc_code
from storage.validators import UnitInputError, format_uc_code, normalise_uc_code
from storage.web_models import Integrator
from web.errors import NotFound
from web.services.invoices import own_invoice

FIELDS: tuple[tuple[str, str, str], ...] = (
    ("installation", "Nº da instalação", "10 dígitos"),
    ("uc_code", "Unidade Consumidora (UC)", "15 dígitos ou como impresso, ex.: 4.533.142.018-50"),
    ("reference_month", "Mês de referência", "MM/AAAA"),
    ("due_date", "Vencimento", "DD/MM/AAAA"),
    ("amount_due", "Valor a pagar (R$)", "ex.: 1.234,56"),
    ("consumption_kwh", "Consumo (kWh)", "ex.: 250"),
    ("compensated_kwh", "Energia compensada (kWh)", "opcional"),
    ("credit_balance_kwh", "Saldo de créditos (kWh)", "opcional"),
)
"""The reviewable fields: bill-schema name, pt-BR label, and the hint shown under the input."""

SOURCE_LABELS = {
    "linha_digitavel": "código de barras (linha digitável)",
    "label": "rótulo impresso na fatura",
    "shape": "formato do valor na página",
    "review": "revisão",
}
REASON_LABELS = {
    "layout_unknown": "Modelo de fatura desconhecido: os campos foram lidos de forma genérica.",
    "installation_mismatch": "A instalação impressa na fatura não é a desta unidade.",
    "uc_code_unconfirmed": "O código da UC veio de uma fatura enviada manualmente: confirme-o.",
    "uc_code_of_another_unit": "O código da UC impresso já pertence a outra unidade.",
    "required_fields_present": "Faltam campos essenciais (mês, vencimento, valor ou instalação).",
    "items_sum_matches_total": "Os itens da fatura não somam o total.",
    "barcode_amount_matches_total": "O valor do código de barras difere do total da fatura.",
    "barcode_amount_printed": "O valor do código de barras não aparece impresso na fatura.",
    "barcode_check_digits": "O código de barras tem dígitos verificadores errados.",
    "access_key_check_digit": "A chave de acesso da nota fiscal tem dígito verificador errado.",
    "footer_matches_header": "O rodapé da fatura não confere com o cabeçalho.",
    "payee_is_utility": "O código de barras paga outra empresa, não a concessionária.",
    "payee_mismatch": "O código de barras ou o QR code Pix paga outra pessoa, não a concessionária: pode ser falsa.",
    "pix_amount_mismatch": "O valor do QR code Pix não confere com o total a pagar.",
    "no_checks": "Nenhuma conferência automática foi possível.",
}
PAYEE_REFUSED = ("O código de barras desta fatura paga outra empresa, não a concessionária: ela não pode ser "
                 "confirmada nem encaminhada. Trate-a como possível fraude.")


@dataclass(frozen=True)
class FieldView:
    """One row of the review form."""

    name: str
    label: str
    hint: str
    value: str
    source: str
    error: str | None = None


@dataclass(frozen=True)
class ReviewView:
    """The review screen of one bill."""

    invoice: Invoice
    unit: Unit
    fields: list[FieldView]
    reasons: list[str]
    refused: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


def review_queue(*, session: Session, integrator: Integrator) -> list[tuple[Invoice, Unit, list[str]]]:
    """The integrator's bills waiting for review, each with its unit and its reasons in pt-BR."""
    out = []
    for invoice in invoices_to_review(session=session, integrator_id=integrator.id or 0):
        unit = session.get(Unit, invoice.unit_id)
        if unit is not None:
            out.append((invoice, unit, reason_texts(invoice.review_reasons)))
    return out


def _pays_someone_else(invoice: Invoice) -> bool:
    """A bill whose barcode or PIX pays someone else (processor.payee) is never confirmed nor forwarded."""
    return (invoice.data.get("checks", {}).get("payee_is_utility") is False
            or "payee_mismatch" in (invoice.review_reasons or []))


def reason_texts(reasons: list[str]) -> list[str]:
    """The reasons a bill waits for review, in pt-BR (an unknown one as a generic sentence)."""
    return [REASON_LABELS.get(r, "Uma conferência automática falhou.") for r in reasons]


def _raw(invoice: Invoice, name: str) -> str | None:
    if name in SCEE_FIELDS:
        return (invoice.data.get("scee") or {}).get(name)
    return invoice.data.get(name)


def _display(name: str, raw: str | None) -> str:
    """A stored value as the form shows it (pt-BR forms)."""
    if raw in (None, ""):
        return ""
    if name == "uc_code":
        return format_uc_code(raw)
    if name == "reference_month":
        return f"{raw[5:7]}/{raw[:4]}"
    if name == "due_date":
        return f"{raw[8:10]}/{raw[5:7]}/{raw[:4]}"
    if name == "amount_due":
        return brl(Decimal(raw)).removeprefix("R$").strip()
    text = f"{Decimal(raw):f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return text.replace(".", ",")


def _source(invoice: Invoice, name: str, raw: str | None) -> str:
    source = (invoice.data.get("sources") or {}).get(name)
    if source is not None:
        return SOURCE_LABELS.get(source, source)
    if raw in (None, ""):
        return "não encontrado"
    return "leitor do modelo de fatura" + (f" ({invoice.layout})" if invoice.layout else "")


def review_view(*, session: Session, integrator: Integrator, invoice_id: int, typed: dict[str, str] | None = None,
                errors: dict[str, str] | None = None) -> ReviewView:
    """The screen for one of the integrator's bills; `typed`/`errors` redisplay a refused correction."""
    invoice, unit = own_invoice(session=session, integrator=integrator, invoice_id=invoice_id)
    rows = []
    for name, label, hint in FIELDS:
        raw = _raw(invoice, name)
        value = typed[name] if typed is not None and name in typed else _display(name, raw)
        rows.append(FieldView(name=name, label=label, hint=hint, value=value, source=_source(invoice, name, raw),
                              error=(errors or {}).get(name)))
    refused = PAYEE_REFUSED if _pays_someone_else(invoice) else None
    return ReviewView(invoice=invoice, unit=unit, fields=rows, reasons=reason_texts(invoice.review_reasons),
                      refused=refused, errors=errors or {})


def _decimal(text: str, *, places: int) -> Decimal:
    cleaned = text.strip().removeprefix("R$").strip().replace(" ", "")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(\.\d{3})+", cleaned):
        cleaned = cleaned.replace(".", "")  # "1.234": thousands, as Brazilians write them
    if not re.fullmatch(r"\d+(\.\d+)?", cleaned):
        raise ValueError(text)
    value = Decimal(cleaned)
    if value.as_tuple().exponent < -places:  # type: ignore[operator]
        raise ValueError(text)
    return value.quantize(Decimal(1).scaleb(-places))


def _month(text: str) -> str:
    match = re.fullmatch(r"(\d{1,2})/(\d{4})", text.strip()) or None
    iso = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if match:
        month, year = int(match[1]), int(match[2])
    elif iso:
        year, month = int(iso[1]), int(iso[2])
    else:
        raise ValueError(text)
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise ValueError(text)
    return f"{year:04d}-{month:02d}"


def _date(text: str) -> date:
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text.strip())
    if not match:
        raise ValueError(text)
    return date(int(match[3]), int(match[2]), int(match[1]))


def _add_months(month: str, n: int) -> date:
    year, mon = int(month[:4]), int(month[5:7]) - 1 + n
    return date(year + mon // 12, mon % 12 + 1, 1)


def validate(typed: dict[str, str], *, session: Session, invoice: Invoice, unit: Unit,
             today: date) -> tuple[dict[str, object], dict[str, str]]:
    """The typed form → (bill-schema values, pt-BR errors by field). No error: the values can be saved."""
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    text = {name: (typed.get(name) or "").strip() for name, _, _ in FIELDS}

    installation = text["installation"].replace(".", "").replace("-", "").replace(" ", "")
    if installation:
        if not (installation.isdigit() and len(installation) == 10):
            errors["installation"] = "Nº da instalação inválido: use os 10 dígitos impressos na fatura."
        elif unit.installation and installation != unit.installation:
            errors["installation"] = (f"A instalação {installation} não é a desta unidade ({unit.installation}). "
                                      "Se a fatura é de outra unidade, envie-a na página da unidade certa.")
    values["installation"] = installation or None
    uc_code = None
    if text["uc_code"]:
        try:
            uc_code = normalise_uc_code(text["uc_code"])
        except UnitInputError as exc:
            errors["uc_code"] = exc.user_message or "Código da Unidade Consumidora inválido."
        else:
            if unit.uc_code and uc_code != unit.uc_code:
                errors["uc_code"] = (f"A UC {format_uc_code(uc_code)} não é a desta unidade "
                                     f"({format_uc_code(unit.uc_code)}).")
    values["uc_code"] = uc_code
    if not installation and not text["uc_code"]:
        errors["installation"] = "Informe o nº da instalação ou o código da Unidade Consumidora."

    month = None
    if not text["reference_month"]:
        errors["reference_month"] = "Informe o mês de referência (MM/AAAA)."
    else:
        try:
            month = _month(text["reference_month"])
        except ValueError:
            errors["reference_month"] = "Mês de referência inválido: use MM/AAAA, ex.: 11/2026."
        else:
            if _add_months(month, 0) > _add_months(today.strftime("%Y-%m"), 1):
                errors["reference_month"] = "O mês de referência está no futuro."
            elif month_taken(session=session, invoice=invoice, reference_month=month):
                errors["reference_month"] = (f"Esta unidade já tem uma fatura de {month[5:]}/{month[:4]}. "
                                             "Confira o mês impresso na fatura.")
    values["reference_month"] = month

    if not text["due_date"]:
        errors["due_date"] = "Informe o vencimento (DD/MM/AAAA)."
    else:
        try:
            due = _date(text["due_date"])
        except ValueError:
            errors["due_date"] = "Vencimento inválido: use DD/MM/AAAA, ex.: 10/12/2026."
        else:
            values["due_date"] = due
            if month is not None and not (_add_months(month, 0) <= due < _add_months(month, 4)):
                errors["due_date"] = ("O vencimento deve cair no mês de referência ou nos três meses seguintes: "
                                      "confira o mês e a data.")

    if not text["amount_due"]:
        errors["amount_due"] = "Informe o valor a pagar."
    else:
        try:
            amount = _decimal(text["amount_due"], places=2)
        except (ValueError, InvalidOperation):
            errors["amount_due"] = "Valor inválido: use reais e centavos, ex.: 1.234,56."
        else:
            values["amount_due"] = amount
            encoded = linha_digitavel_amount(invoice.data.get("barcode") or "") if invoice.data.get("barcode") else None
            if amount >= Decimal("1000000"):
                errors["amount_due"] = "Valor alto demais para uma fatura de energia: confira os centavos."
            elif encoded is not None and encoded != amount:
                errors["amount_due"] = (f"O valor difere do código de barras da fatura ({brl(encoded)}): "
                                        "confira o valor impresso.")

    for name in ("consumption_kwh", "compensated_kwh", "credit_balance_kwh"):
        if not text[name]:
            values[name] = None
            continue
        try:
            values[name] = _decimal(text[name], places=2)
        except (ValueError, InvalidOperation):
            errors[name] = "Energia inválida: use kWh sem unidade, ex.: 250 ou 250,5."
    return values, errors


def save_review(*, session: Session, app: AppContext, integrator: Integrator, invoice_id: int,
                typed: dict[str, str]) -> tuple[Invoice | None, dict[str, str]]:
    """Validate and save a confirmation or correction; returns (the reviewed bill, {}) or (None, errors)."""
    invoice, unit = own_invoice(session=session, integrator=integrator, invoice_id=invoice_id)
    if invoice.status != InvoiceStatus.NEEDS_REVIEW.value or invoice.superseded_by_id is not None:
        raise NotFound(f"invoice {invoice_id} is not waiting for review")
    if _pays_someone_else(invoice):
        return None, {"_": PAYEE_REFUSED}
    values, errors = validate(typed, session=session, invoice=invoice, unit=unit, today=utcnow().date())
    if not errors and values.get("uc_code") and unit.uc_code is None \
            and not learn_uc_code(session=session, unit=unit, uc_code=str(values["uc_code"])):
        errors["uc_code"] = "Este código de UC já pertence a outra unidade: confira o número."
    if errors:
        return None, errors
    record_review(session=session, invoice=invoice, values=values, reviewed_by=integrator.email, now=utcnow())
    if not forwards_of(session=session, invoice_ids=[invoice.id or 0]):
        queue_forwards(session=session, invoice=invoice, unit=unit, settings=app.settings.mail)
    return invoice, {}
