"""The key fields of an OCR-read CEMIG bill, each with its confidence: what a scan or a photo can be trusted for.

OCR text is noisy and its line order is Tesseract's, so only the fields that matter to route, store and
pay a bill are read (installation or UC code, customer number, reference month, due date, amount,
consumption), each from the places the bill prints it: the payment stub (débito code, installation/UC,
due date, ``R$`` total), the header (labels, or the 2026 triple month/date/total), the linha digitável
(amount, check digits verified) and the meter row. Where two places disagree the field is None: never a
guess. ``Bill.confidence`` holds each field's lowest word confidence (0–1), ``Bill.sources`` says ``ocr``.

The amount *cross-checks* when the linha digitável's check digits are right and the value it encodes is the
total printed on the bill: only then can an OCR read be `parsed` without review (check
``amount_matches_barcode``).
"""

from __future__ import annotations

import re

from processor.parse.br import MONEY, MONTH, date_iso, month_iso, plain
from processor.parse.cemig.fields import UC_PRINTED, uc_code
from processor.parse.cemig.layouts import is_cemig
from processor.parse.checkdigits import linha_digitavel_amount, linha_digitavel_valid
from processor.parse.generic import COMPANY_CODES, company_code
from processor.parse.ocr import OcrText
from processor.parse.schema import Bill

LAYOUT = "ocr"
_DATE = r"\d{2}/\d{2}/\d{4}"
_STUB = re.compile(
    rf"(?<!\d)(\d{{12,13}})\s+(\d{{10}}|{UC_PRINTED})\s+(?:({_DATE})|\S{{1,12}})\s+R\$\s?({MONEY})(?![\d,])")
"""The payment stub's row; a due date OCR garbled (``04/2023``) still leaves the installation and the total."""
_HEADER_2026 = re.compile(rf"(?<![\w/])({MONTH})/(\d{{4}})\s+({_DATE})(?:\s+({MONEY})(?![\d,]))?(?![\d/])",
                          re.IGNORECASE)
"""The header's month/due date/total row (2026, and 2024 when OCR joins the three boxes); the total may be lost."""
_DUE_LABEL = re.compile(rf"(?i)vencimento\s*\n\s*({_DATE})")
_REFERENCE_LABEL = re.compile(rf"(?i)referente\s+a\s*\n?\s*({MONTH})/(\d{{4}})")
_TOTAL_LABEL = re.compile(rf"(?i)valor\s+a\s+pagar\s*\(R\$\)\s*\n\s*({MONEY})(?![\d,])")
_CLIENT_INSTALLATION = re.compile(
    r"(?i)N\.?\s*[º°o]?\s*DO\s+CLIENTE\s+N\.?\s*[º°o]?\s*DA\s+INSTALA\S*[^\n]*\n\s*(\d{10})\s+(\d{10})(?!\d)")
_METER_ROW = re.compile(r"(?im)^Energia\s+kWh\s+\S+\s+[\d.]+\s+[\d.]+\s+\d+(?:,\d+)?\s+([\d.]+)\s*$")
_LINHA = re.compile(r"(?<!\d)(\d{11})\s?[-—–]\s?(\d)\s+(\d{11})\s?[-—–]\s?(\d)\s+(\d{11})\s?[-—–]\s?(\d)\s+"
                    r"(\d{11})\s?[-—–]\s?(\d)(?!\d)")
_FULL_MONTHS = {"janeiro": "01", "fevereiro": "02", "março": "03", "marco": "03", "abril": "04", "maio": "05",
                "junho": "06", "julho": "07", "agosto": "08", "setembro": "09", "outubro": "10",
                "novembro": "11", "dezembro": "12"}
_STUB_MONTH = re.compile(r"(?i)(?<!\w)(" + "|".join(_FULL_MONTHS) + r")/(\d{4})(?!\d)")
"""The stub's ``Maio/2023`` (the only place the bill spells the month out): used when no other place gives it."""


class _Fields:
    """Values found per field with their confidence; a field found with two different values is None."""

    def __init__(self, ocr: OcrText) -> None:
        self.ocr = ocr
        self.values: dict[str, dict[str, float]] = {}

    def add(self, name: str, value: str | None, match: re.Match, group: int) -> None:
        if value is None:
            return
        confidence = self.ocr.confidence(match.start(group), match.end(group)) or 0.0
        seen = self.values.setdefault(name, {})
        seen[value] = max(seen.get(value, 0.0), confidence)

    def get(self, name: str) -> tuple[str | None, float | None]:
        seen = self.values.get(name, {})
        if len(seen) != 1:
            return None, None
        ((value, confidence),) = seen.items()
        return value, confidence


def _linha(text: str) -> tuple[str | None, re.Match | None]:
    for match in _LINHA.finditer(text):
        digits = "".join(match.groups())
        if linha_digitavel_valid(digits):
            return digits, match
    return None, None


def read_ocr_bill(ocr: OcrText, *, utility: str = "cemig") -> Bill:
    """The key fields of an OCR-read bill with their confidences and checks (see the module docstring)."""
    text = ocr.text
    found = _Fields(ocr)
    printed_totals: set[str] = set()
    for match in _STUB.finditer(text):
        printed = match[2]
        found.add("installation" if printed.isdigit() and len(printed) == 10 else "uc_code",
                  printed if len(printed) == 10 and printed.isdigit() else uc_code(f"N.º DA UNIDADE CONSUMIDORA "
                                                                                    f"{printed}"), match, 2)
        if match[3]:
            found.add("due_date", date_iso(match[3]), match, 3)
        found.add("amount_due", plain(match[4]), match, 4)
        printed_totals.add(plain(match[4]))
    for match in _HEADER_2026.finditer(text):
        found.add("reference_month", month_iso(match[1].upper(), match[2]), match, 1)
        found.add("due_date", date_iso(match[3]), match, 3)
        if match[4]:
            printed_totals.add(plain(match[4]))
    for match in _DUE_LABEL.finditer(text):
        found.add("due_date", date_iso(match[1]), match, 1)
    for match in _REFERENCE_LABEL.finditer(text):
        found.add("reference_month", month_iso(match[1].upper(), match[2]), match, 1)
    for match in _TOTAL_LABEL.finditer(text):
        printed_totals.add(plain(match[1]))
    if "reference_month" not in found.values:
        for match in _STUB_MONTH.finditer(text):
            found.add("reference_month", f"{match[2]}-{_FULL_MONTHS[match[1].lower()]}", match, 1)
    for match in _CLIENT_INSTALLATION.finditer(text):
        found.add("customer_number", match[1], match, 1)
        found.add("installation", match[2], match, 2)
    if "uc_code" not in found.values:
        labelled = re.search(rf"(?i)UNIDADE\s+CONSUMIDORA\s*\n?\s*({UC_PRINTED})", text)
        if labelled is not None:
            found.add("uc_code", uc_code(f"N.º DA UNIDADE CONSUMIDORA {labelled[1]}"), labelled, 1)
    for match in _METER_ROW.finditer(text):
        found.add("consumption_kwh", plain(match[1]), match, 1)

    checks: dict[str, bool] = {}
    linha, linha_match = _linha(text)
    if linha is not None and linha_match is not None:
        encoded = linha_digitavel_amount(linha)
        if encoded is not None:
            amount = f"{encoded:.2f}"
            checks["amount_matches_barcode"] = amount in printed_totals
            # The linha digitável's value, check digits verified, is the surest reading of the amount.
            found.values["amount_due"] = {amount: found.ocr.confidence(linha_match.start(), linha_match.end())
                                          or 0.0}
    if "amount_matches_barcode" not in checks:
        checks["amount_matches_barcode"] = False
    values = {name: found.get(name) for name in ("installation", "uc_code", "customer_number", "reference_month",
                                                 "due_date", "amount_due", "consumption_kwh")}
    fields = {name: value for name, (value, _) in values.items()}
    confidence = {name: conf for name, (value, conf) in values.items() if value is not None and conf is not None}
    checks["required_fields_present"] = (None not in (fields["reference_month"], fields["due_date"],
                                                      fields["amount_due"])
                                         and (fields["installation"] or fields["uc_code"]) is not None)
    checks["issuer_is_utility"] = (utility == "cemig" and is_cemig(text)) or (
        linha is not None and company_code(linha) == COMPANY_CODES.get(utility))
    sources = {name: "ocr" for name in confidence}
    if linha is not None:
        sources["barcode"] = "ocr"
    return Bill(utility=utility, layout=LAYOUT, barcode=linha, checks=checks, sources=sources, confidence=confidence,
                installation=fields["installation"], uc_code=fields["uc_code"],
                customer_number=fields["customer_number"], reference_month=fields["reference_month"],
                due_date=fields["due_date"], amount_due=fields["amount_due"],
                consumption_kwh=fields["consumption_kwh"])
