"""The header, classification, reading and footer fields of a CEMIG bill, found by their labels.

Every function takes the bill's text (pypdfium2 reading order, newline line ends) and returns None for
what the bill does not show: nothing here guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from processor.parse.br import (
    MONEY,
    MONTH,
    NUMBER,
    date_after,
    date_before,
    date_iso,
    date_near,
    mid_month,
    month_iso,
    plain,
)
from processor.parse.schema import Meter, Reading

_DATE = r"\d{2}/\d{2}/\d{4}"
_TIMESTAMP = r"\d{2}\.\d{2}\.\d{4}\s+às\s+\d{2}:\d{2}:\d{2}"

_CLIENT_INSTALLATION = re.compile(
    rf"N[ºo°]\s*DO\s*CLIENTE\s+N[ºo°]\s*DA\s*INSTALA[ÇC][ÃA]O(?:\s+{_TIMESTAMP})?\s+(\d{{8,11}})\s+(\d{{10}})\b"
)
_HEADER_LABELLED = re.compile(
    rf"Referente\s+a\s+Vencimento\s+Valor\s+a\s+pagar\s+\(R\$\)\s+({MONTH})/(\d{{4}})\s+({_DATE})\s+({MONEY})(?!\d)"
)
# Same triple without its labels (pdfplumber-like extractors put them on other lines).
_HEADER_TRIPLE = re.compile(rf"(?<![\w/])({MONTH})/(\d{{4}})\s+({_DATE})\s+({MONEY})(?!\d)")
_INVOICE = re.compile(r"NOTA\s+FISCAL\s+N[ºo°]\s*(\d+)\s*-\s*S[ÉE]RIE\s*(\w+)")
_ISSUE_DATE = re.compile(rf"Data\s+de\s+emiss[ãa]o:\s*({_DATE})")
_ACCESS_KEY = re.compile(r"chave\s+de\s+acesso:\s*((?:\d[ ]?){43}\d)(?!\d)")

_CLASSES = (
    "Residencial",
    "Comercial",
    "Industrial",
    "Rural",
    "Poder Público",
    "Serviço Público",
    "Iluminação Pública",
    "Consumo Próprio",
)
_MODALITY_START = re.compile(r"\b(?:Convencional|Tarifa\s+Branca|Branca|THS|Horária|Horo-?sazonal|Verde|Azul)\b")
_CLASS_HEADER = re.compile(r"(?m)^.*\bClasse\s+Subclasse\s+Modalidade\s+Tarif[áa]ria\b.*$")
_READING_LABELS = re.compile(r"\s*Anterior\s+Atual\s+N[ºo°]\s+de\s+dias\s+Pr[óo]xima\s*$")
_SUPPLY = {"monofásico": "monofasico", "bifásico": "bifasico", "trifásico": "trifasico"}
_SUPPLY_LINE = re.compile(
    r"^\s*(Monof[áa]sico|Bif[áa]sico|Trif[áa]sico)\b\s*(.*?)\s*"
    r"(\d{2}/\d{2})\s+(\d{2}/\d{2})\s+(\d{1,3})\s+(\d{2}/\d{2})\s*$",
    re.IGNORECASE,
)
_METER_ROW = re.compile(
    rf"(?m)^\s*Energia\s+kWh\s+(?:([A-Z]{{2,4}}\d{{6,}})\s+)?({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s*$"
)
_FOOTER = re.compile(
    r"Código\s+de\s+Débito\s+Automático\s+Instalação\s+Vencimento\s+Total\s+a\s+pagar\s+"
    rf"(?:(\d{{12,13}})\s+)?(?:(\d{{10}})\s+)?({_DATE})\s+R\$\s?({MONEY})(?!\d)"
)
_LINHA = re.compile(r"(?<!\d)(\d{11})-(\d)\s+(\d{11})-(\d)\s+(\d{11})-(\d)\s+(\d{11})-(\d)(?!\d)")

_CEP_LINE = re.compile(r"^\d{5}-\d{3}\s+\S.*,\s*[A-Z]{2}$")
_DOCUMENT_LINE = re.compile(r"^(?:CPF|CNPJ)\s")
_STREET = re.compile(
    r"^(?:RUA|R\.|AV|AV\.|AVENIDA|PCA|PRACA|PRAÇA|TRAVESSA|TV|ALAMEDA|AL|ROD|RODOVIA|ESTRADA|EST|LARGO|"
    r"BECO|VIA|QUADRA|SITIO|SÍTIO|FAZENDA|FAZ)\b"
)
_NOT_A_NAME = re.compile(r"[:$]|^[NnWw]{20,}|\d{11}-\d|^[\d\s./-]+$|DÉBITO AUTOMÁTICO|Comprovante de Pagamento|ATENÇÃO")


@dataclass(frozen=True)
class Header:
    """The "Referente a / Vencimento / Valor a pagar" block."""

    reference_month: str | None
    due_date: str | None
    amount_due: str | None


@dataclass(frozen=True)
class Footer:
    """The payment stub: "Código de Débito Automático / Instalação / Vencimento / Total a pagar"."""

    automatic_debit_code: str | None
    installation: str | None
    due_date: str | None
    amount_due: str | None


@dataclass(frozen=True)
class Classification:
    """Tariff class, subclass, modality, supply type and the reading dates printed beside them."""

    tariff_class: str | None = None
    tariff_subclass: str | None = None
    tariff_modality: str | None = None
    supply_type: str | None = None
    reading: Reading = Reading()


def client_and_installation(text: str) -> tuple[str | None, str | None]:
    """``Nº DO CLIENTE`` and ``Nº DA INSTALAÇÃO``: the two numbers printed under the labels."""
    match = _CLIENT_INSTALLATION.search(text)
    return (match[1], match[2]) if match else (None, None)


def header(text: str) -> Header:
    """Reference month, due date and amount due, from the labelled header block."""
    match = _HEADER_LABELLED.search(text) or _HEADER_TRIPLE.search(text)
    if match is None:
        return Header(None, None, None)
    return Header(month_iso(match[1], match[2]), date_iso(match[3]), plain(match[4]))


def invoice(text: str) -> tuple[str | None, str | None]:
    """The fiscal note's number and series (``NOTA FISCAL Nº 047098955 - SÉRIE 000``)."""
    match = _INVOICE.search(text)
    return (match[1], match[2]) if match else (None, None)


def issue_date(text: str) -> str | None:
    """``Data de emissão:`` as an ISO date."""
    match = _ISSUE_DATE.search(text)
    return date_iso(match[1]) if match else None


def access_key(text: str) -> str | None:
    """The 44-digit NF3e access key printed after ``chave de acesso:`` (spaces between groups allowed)."""
    match = _ACCESS_KEY.search(text)
    return match[1].replace(" ", "") if match else None


def _split_class_line(line: str) -> tuple[str | None, str | None, str | None]:
    line = _READING_LABELS.sub("", line).strip()
    tariff_class = next((name for name in _CLASSES if line.startswith(name + " ") or line == name), None)
    if tariff_class is None:
        return None, None, None
    rest = line[len(tariff_class) :].strip()
    modality_match = _MODALITY_START.search(rest)
    if modality_match is None:
        return tariff_class, rest or None, None
    subclass = rest[: modality_match.start()].strip() or None
    return tariff_class, subclass, rest[modality_match.start() :].strip() or None


def _reading(previous: str, current: str, days: str, upcoming: str, reference_month: str | None) -> Reading:
    if reference_month is None:
        return Reading(days=int(days))
    current_date = date_near(current, mid_month(reference_month))
    if current_date is None:
        return Reading(days=int(days))
    previous_date = date_before(previous, current_date)
    next_date = date_after(upcoming, current_date)
    return Reading(
        previous=previous_date.isoformat() if previous_date else None,
        current=current_date.isoformat(),
        days=int(days),
        next=next_date.isoformat() if next_date else None,
    )


def classification(text: str, reference_month: str | None) -> Classification:
    """The line under ``Classe Subclasse Modalidade Tarifária`` and the supply/reading-dates line below it.

    The subclass may wrap onto the second line (``Outros serviços`` ⏎ ``e outras atividades``); what sits
    between the supply type and the dates there is appended to it. Reading dates carry no year: it is
    taken from the reference month (the current reading falls closest to it).
    """
    label = _CLASS_HEADER.search(text)
    if label is None:
        return Classification()
    following = text[label.end() :].lstrip("\n").split("\n")
    values = _READING_LABELS.sub("", following[0]) if following else ""
    tariff_class, subclass, modality = _split_class_line(values)
    supply_line = following[1] if len(following) > 1 else ""
    if _READING_LABELS.fullmatch(supply_line):  # labels wrapped onto their own line
        supply_line = following[2] if len(following) > 2 else ""
    supply = _SUPPLY_LINE.match(supply_line)
    if supply is None:
        return Classification(tariff_class, subclass, modality)
    continuation = supply[2].strip()
    if continuation and subclass:
        subclass = f"{subclass} {continuation}"
    return Classification(
        tariff_class=tariff_class,
        tariff_subclass=subclass,
        tariff_modality=modality,
        supply_type=_SUPPLY.get(supply[1].lower()),
        reading=_reading(supply[3], supply[4], supply[5], supply[6], reference_month),
    )


def meter(text: str) -> tuple[Meter, str | None]:
    """The ``Energia kWh`` row of *Informações Técnicas*: the meter and its metered consumption (kWh)."""
    match = _METER_ROW.search(text)
    if match is None:
        return Meter(), None
    return (
        Meter(id=match[1], previous=plain(match[2]), current=plain(match[3]), multiplier=plain(match[4])),
        plain(match[5]),
    )


def footer(text: str) -> Footer | None:
    """The payment stub under ``Código de Débito Automático Instalação Vencimento Total a pagar``."""
    match = _FOOTER.search(text)
    if match is None:
        return None
    return Footer(match[1], match[2], date_iso(match[3]), plain(match[4]))


def linha_digitavel(text: str) -> str | None:
    """The 48 digits of the FEBRABAN linha digitável (four blocks of 11 digits and a check digit)."""
    match = _LINHA.search(text)
    return "".join(match.groups()) if match else None


def holder_name(text: str) -> str | None:
    """The addressee: the first line of the name/address block that ends with ``CEP CITY, UF`` + CPF/CNPJ.

    The block is unlabelled, so the name is returned only when the block is clearly delimited and its
    first line does not look like a street; otherwise None.
    """
    lines = [line.strip() for line in text.split("\n")]
    for index, line in enumerate(lines):
        if not _CEP_LINE.match(line):
            continue
        if not any(_DOCUMENT_LINE.match(after) for after in lines[index + 1 : index + 3]):
            continue
        start = index
        while start > 0 and lines[start - 1] and not _NOT_A_NAME.search(lines[start - 1]):
            start -= 1
        block = lines[start:index]
        if not 2 <= len(block) <= 4 or _STREET.match(block[0]):
            return None
        return block[0]
    return None
