"""A generic extractor for a bill no layout parser accepts: what any bill shows, and where each field came from.

Used when a utility's parser raises BillUnparseable on an authentic bill (a layout nobody has seen yet), so
the bill is stored and forwarded anyway and put up for review. It reads the FEBRABAN arrecadação code (the
linha digitável, or the 44-digit barcode when printed as digits) for the amount and the payee's company
code, cross-checks that amount against the money printed on the page, and takes the due date, reference
month and the unit's numbers from labels where there are any and from the shape of values where there are
not. Every field it fills is named in ``Bill.sources`` (``linha_digitavel``, ``label``, ``shape``). Nothing is
guessed: a field found twice with different values is None.
"""

from __future__ import annotations

import re
from decimal import Decimal

from processor.parse.br import MONEY, MONTH, date_iso, month_iso, plain
from processor.parse.cemig import fields as cemig_fields
from processor.parse.cemig.layouts import is_cemig
from processor.parse.checkdigits import linha_digitavel_amount, linha_digitavel_valid
from processor.parse.schema import Bill

LAYOUT = "generic"
COMPANY_CODES = {"cemig": "0138"}
"""The payee's FEBRABAN company code per utility (barcode digits 16–19 of an energy arrecadação code)."""

_LINHA = re.compile(r"(?<!\d)(\d{11})[- ]?(\d)\s+(\d{11})[- ]?(\d)\s+(\d{11})[- ]?(\d)\s+(\d{11})[- ]?(\d)(?!\d)")
_DATE = r"\d{2}/\d{2}/\d{4}"
_DUE_LABEL = re.compile(rf"(?i)(?:vencimento|vence\s+em|pag[áa]vel\s+at[ée])\D{{0,40}}?({_DATE})")
_REFERENCE_LABEL = re.compile(
    rf"(?i)(?:refer[êe]ncia|referente\s+a|m[êe]s/ano|compet[êe]ncia)\D{{0,40}}?({MONTH})/(\d{{4}})")
_INSTALLATION_LABEL = re.compile(r"(?i)instala[çc][ãa]o\D{0,30}?(\d{10})(?!\d)")
_MONEY = re.compile(rf"(?<![\d,.]){MONEY}(?![\d,])")
_MONTH_ANY = re.compile(rf"(?<![\w/])({MONTH})/(\d{{4}})(?![\d/])")


def _one(values: set[str | None]) -> str | None:
    values.discard(None)
    return values.pop() if len(values) == 1 else None


def barcode(text: str) -> str | None:
    """The 48 digits of the first valid arrecadação linha digitável on the page (check digits verified)."""
    for match in _LINHA.finditer(text):
        digits = "".join(match.groups())
        if linha_digitavel_valid(digits):
            return digits
    return None


def company_code(linha: str) -> str:
    """The payee's company code in an arrecadação linha digitável (barcode digits 16–19)."""
    code = "".join(linha[i : i + 11] for i in range(0, 48, 12))
    return code[15:19]


def names_utility(text: str, utility: str) -> bool:
    """Whether the page is the utility's: its issuer text, or a valid barcode paying its company code."""
    if utility == "cemig" and is_cemig(text):
        return True
    linha = barcode(text)
    return linha is not None and company_code(linha) == COMPANY_CODES.get(utility)


def _printed_amounts(text: str) -> set[Decimal]:
    return {Decimal(plain(match[0])) for match in _MONEY.finditer(text)}


def extract(text: str, *, utility: str) -> Bill:
    """The fields a bill in an unknown layout shows, each with its source; checks say what could be confirmed."""
    sources: dict[str, str] = {}
    checks: dict[str, bool] = {}
    linha = barcode(text)
    amount = None
    if linha is not None:
        sources["barcode"] = "linha_digitavel"
        checks["barcode_check_digits"] = True
        expected_company = COMPANY_CODES.get(utility)
        if expected_company is not None:
            checks["payee_is_utility"] = company_code(linha) == expected_company
        encoded = linha_digitavel_amount(linha)
        if encoded is not None:
            amount = f"{encoded:.2f}"
            sources["amount_due"] = "linha_digitavel"
            checks["barcode_amount_printed"] = encoded in _printed_amounts(text)
    due = _one({date_iso(match[1]) for match in _DUE_LABEL.finditer(text)})
    if due is not None:
        sources["due_date"] = "label"
    month = _one({month_iso(match[1], match[2]) for match in _REFERENCE_LABEL.finditer(text)})
    if month is not None:
        sources["reference_month"] = "label"
    else:
        month = _one({month_iso(match[1], match[2]) for match in _MONTH_ANY.finditer(text)})
        if month is not None:
            sources["reference_month"] = "shape"
    installation = _one({match[1] for match in _INSTALLATION_LABEL.finditer(text)})
    if installation is not None:
        sources["installation"] = "label"
    uc_code = cemig_fields.uc_code(text) if utility == "cemig" else None
    if uc_code is not None:
        sources["uc_code"] = "label" if re.search(r"(?i)unidade\s+consumidora", text) else "shape"
    checks["required_fields_present"] = None not in (month, due, amount) and (installation or uc_code) is not None
    return Bill(utility=utility, layout=LAYOUT, installation=installation, uc_code=uc_code, reference_month=month,
                due_date=due, amount_due=amount, barcode=linha, checks=checks, sources=sources)
