"""The header, classification, reading and footer fields of a CEMIG bill, found by their labels.

Every function takes the bill's text (pypdfium2 reading order, newline line ends) and returns None for
what the bill does not show: nothing here guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from processor.parse.br import (
    MONEY,
    MONTH,
    date_after,
    date_before,
    date_iso,
    date_near,
    mid_month,
    month_iso,
    plain,
)
from processor.parse.schema import Reading

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
_CLASS_HEADER = re.compile(r"Classe(?<!\wClasse)\s+Subclasse\s+Modalidade\s+Tarif[áa]ria\b")
"""Starts with a literal, so it is found by a fast scan; `classification` widens the match to its line."""
_READING_LABELS = re.compile(r"\s*Anterior\s+Atual\s+N[ºo°]\s+de\s+dias\s+Pr[óo]xima\s*$")
_SUPPLY = {"monofásico": "monofasico", "bifásico": "bifasico", "trifásico": "trifasico"}
_SUPPLY_LINE = re.compile(
    r"^\s*(Monof[áa]sico|Bif[áa]sico|Trif[áa]sico)\b\s*(.*?)\s*"
    r"(\d{2}/\d{2})\s+(\d{2}/\d{2})\s+(\d{1,3})\s+(\d{2}/\d{2})\s*$",
    re.IGNORECASE,
)
# The national UC code as bills print it: dotted every three digits from the right, a hyphen before the two
# check digits, leading zeros dropped (`4.533.142.018-50` = 000453314201850); or all 15 digits at once.
UC_PRINTED = r"(?<![\d.])(?:\d{1,3}(?:\.\d{3}){1,4}-\d{2}|\d{15})(?![\d-])"
# CEMIG's own codes carry its distributor id `018` before the check digits (REN ANEEL 1.000 art. 659-A):
# the only shape trusted when no label names the number.
_UC_CEMIG = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{3}){0,3}\.018-\d{2}(?![\d-])")
_UC_LABELLED = re.compile(
    rf"N\.?\s*[ºo°]\s*DA\s+UNIDADE\s+CONSUMIDORA\s*:?\s*({UC_PRINTED})", re.IGNORECASE
)
_FOOTER = re.compile(
    r"Código\s+de\s+Débito\s+Automático\s+(?:Instalação|N\.?\s*[ºo°]\s*da\s+Unidade\s+Consumidora)\s+"
    rf"Vencimento\s+Total\s+a\s+pagar\s+(?:(\d{{12,13}})\s+)?(?:(\d{{10}}|{UC_PRINTED})\s+)?"
    rf"({_DATE})\s+R\$\s?({MONEY})(?!\d)",
    re.IGNORECASE,
)
# The same stub when its labels are images: débito code, UC, due date, "R$ total" in a row.
_FOOTER_SHAPE = re.compile(
    rf"(?<!\d)(\d{{12,13}})\s+({UC_PRINTED})\s+({_DATE})\s+R\$\s?({MONEY})(?!\d)"
)
_LINHA = re.compile(r"-(?<=(?<!\d)(\d{11})-)(\d)\s+(\d{11})-(\d)\s+(\d{11})-(\d)\s+(\d{11})-(\d)(?!\d)")
"""Four blocks ``83660000001-9``, searched from the first block's hyphen with its 11 digits read behind it: a
pattern that starts with a literal is found by a fast scan, while one led by the digits was tried at every digit
of the bill (a tenth of the parse)."""

_CEP_LINE = re.compile(r"^\d{5}-\d{3}\s+\S.*,\s*[A-Z]{2}$")
_DOCUMENT_LINE = re.compile(r"^(?:CPF|CNPJ)\s")
_STREET = re.compile(
    r"^(?:RUA|R\.|AV|AV\.|AVENIDA|PCA|PRACA|PRAÇA|TRAVESSA|TV|ALAMEDA|AL|ROD|RODOVIA|ESTRADA|EST|LARGO|"
    r"BECO|VIA|QUADRA|SITIO|SÍTIO|FAZENDA|FAZ)\b"
)
_NOT_A_NAME = re.compile(
    rf"[:$]|^[NnWw]{{20,}}|\d{{11}}-\d|^[\d\s./-]+$|DÉBITO AUTOMÁTICO|Comprovante de Pagamento|ATENÇÃO|"
    rf"{MONTH}/\d{{4}}\s+\d{{2}}/\d{{2}}/\d{{4}}"  # the header triple printed just above the name (2026 design)
)


@dataclass(frozen=True)
class Header:
    """The "Referente a / Vencimento / Valor a pagar" block."""

    reference_month: str | None
    due_date: str | None
    amount_due: str | None


@dataclass(frozen=True)
class Footer:
    """The payment stub: "Código de Débito Automático / Instalação (or UC) / Vencimento / Total a pagar"."""

    automatic_debit_code: str | None
    installation: str | None
    due_date: str | None
    amount_due: str | None
    uc_code: str | None = None


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


def header(text: str, *, by_shape: bool = False) -> Header:
    """Reference month, due date and amount due, from the labelled header block (or its unlabelled triple).

    With ``by_shape`` (2026 layouts) and no triple (a consolidated block that prints the three apart), the
    due date and total come from the payment stub and the month from the stub's written-out month
    (``Abril/2026``), else from the only ``MMM/AAAA`` on the bill: each only when the bill names one.
    """
    match = _HEADER_LABELLED.search(text) or _HEADER_TRIPLE.search(text)
    if match is not None:
        return Header(month_iso(match[1], match[2]), date_iso(match[3]), plain(match[4]))
    if not by_shape:
        return Header(None, None, None)
    stub = footer(text, by_shape=True)
    return Header(_reference_month(text), stub.due_date if stub else None, stub.amount_due if stub else None)


_MONTH_NAMES = ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro",
                "outubro", "novembro", "dezembro")
_MONTH_WRITTEN = re.compile(r"(?<![\w/])(" + "|".join(_MONTH_NAMES) + r")/(\d{4})(?!\d)", re.IGNORECASE)
_MONTH_ABBR = re.compile(rf"(?<![\w/])({MONTH})/(\d{{4}})(?![\d/])")


def _reference_month(text: str) -> str | None:
    written = {f"{m[2]}-{_MONTH_NAMES.index(m[1].lower()) + 1:02d}" for m in _MONTH_WRITTEN.finditer(text)}
    if len(written) == 1:
        return written.pop()
    abbreviated = {month_iso(m[1], m[2]) for m in _MONTH_ABBR.finditer(text)}
    return abbreviated.pop() if len(written) == 0 and len(abbreviated) == 1 else None


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
    line_end = text.find("\n", label.end())
    following = (text[line_end:] if line_end >= 0 else "").lstrip("\n").split("\n")
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


_SUPPLY_BY_INITIAL = {"m": "monofasico", "b": "bifasico", "t": "trifasico"}
_SUPPLY_WORD = re.compile(r"\b(Monof[áa]sico|Bif[áa]sico|Trif[áa]sico)", re.IGNORECASE)
# Reading dates by their shape alone, glued or not: `13/08 14/09 32 12/10`, `18/0621/07 3320/08`.
_READING_SHAPE = re.compile(r"(?<![\d/])(\d{2}/\d{2})\s*(\d{2}/\d{2})\s*(\d{1,2})\s*(\d{2}/\d{2})(?![\d/])")
_MODALITY = re.compile(
    r"\b(?:Convencional|Tarifa\s+Branca|Branca|THS\s+(?:Verde|Azul)|Verde|Azul)(?:\s+(?:B[1-4]|A[1-4]|A3a|AS))?\b"
)


def _reading_by_shape(text: str, reference_month: str | None) -> Reading:
    """The first dd/mm dd/mm days dd/mm group whose days agree with its two dates (the year is inferred)."""
    for match in _READING_SHAPE.finditer(text):
        reading = _reading(match[1], match[2], match[3], match[4], reference_month)
        if reading.previous and reading.current:
            elapsed = date.fromisoformat(reading.current) - date.fromisoformat(reading.previous)
            if elapsed.days == reading.days:
                return reading
    return Reading()


def classification_by_shape(text: str, reference_month: str | None) -> Classification:
    """Class, modality, supply type and reading dates when the block's labels are images (2026 design).

    Anchored on the values: the supply type word, a class name at the start of a line near it, the modality
    (``Convencional B1``) and the reading-date group whose day count fits. A subclass is read only from the
    class line (``Residencial Residencial Convencional B1``); cells printed one per line leave it None.
    """
    labelled = classification(text, reference_month)
    if labelled.supply_type is not None:
        return labelled
    supply = _SUPPLY_WORD.search(text)
    if supply is None:
        return Classification(reading=_reading_by_shape(text, reference_month))
    lines = text.split("\n")
    at = text.count("\n", 0, supply.start())
    window = lines[max(0, at - 4) : at + 4]
    tariff_class = subclass = modality = None
    for line in window:
        found, sub, mod = _split_class_line(line.strip())
        if found is not None:
            tariff_class, subclass, modality = found, sub, mod
            break
    if modality is None:
        modality_match = _MODALITY.search("\n".join(window))
        modality = modality_match[0] if modality_match else None
    if tariff_class is not None and subclass and modality is None:
        subclass = None  # without the modality the subclass cannot be told from the rest of the line
    return Classification(
        tariff_class=tariff_class,
        tariff_subclass=subclass,
        tariff_modality=modality,
        supply_type=_SUPPLY_BY_INITIAL[supply[1][0].lower()],
        reading=_reading_by_shape("\n".join(window), reference_month)
        if _READING_SHAPE.search("\n".join(window)) else _reading_by_shape(text, reference_month),
    )


def uc_digits(printed: str) -> str | None:
    """A printed UC code (``4.533.142.018-50``) as its 15 digits, zero-padded; None if it has more than 15."""
    digits = re.sub(r"\D", "", printed)
    return digits.zfill(15) if 0 < len(digits) <= 15 else None


def footer(text: str, *, by_shape: bool = False) -> Footer | None:
    """The payment stub under ``Código de Débito Automático Instalação|N.º da Unidade Consumidora …``.

    With ``by_shape`` (2026 layouts, whose labels may be images) an unlabelled row of débito code, dotted
    UC code, due date and ``R$`` total is accepted too.
    """
    match = _FOOTER.search(text)
    if match is None and by_shape:
        shaped = _FOOTER_SHAPE.search(text)
        if shaped is None:
            return None
        return Footer(shaped[1], None, date_iso(shaped[3]), plain(shaped[4]), uc_code=uc_digits(shaped[2]))
    if match is None:
        return None
    code = match[2]
    if code is not None and len(code) == 10 and code.isdigit():
        return Footer(match[1], code, date_iso(match[3]), plain(match[4]))
    return Footer(match[1], None, date_iso(match[3]), plain(match[4]), uc_code=uc_digits(code) if code else None)


def uc_code(text: str, *, stub: str | None = None) -> str | None:
    """The 15-digit national UC code: under ``N.º DA UNIDADE CONSUMIDORA``, else by CEMIG's shape alone.

    Unlabelled (some bills print it alone on a line), only a value with CEMIG's distributor id ``.018-`` counts,
    and only when every such value on the bill is the same number: two different ones are no answer. ``stub``
    (the payment stub's UC) is the answer only when the bill shows no CEMIG-shaped code at all.
    """
    labelled = _UC_LABELLED.search(text)
    if labelled is not None:
        return uc_digits(labelled[1])
    found = {uc_digits(match[0]) for match in _UC_CEMIG.finditer(text)}
    if not found:
        return stub
    return found.pop() if len(found) == 1 else None


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


_READING_BASIS = tuple((basis, tuple(re.compile(wording) for wording in wordings)) for basis, wordings in (
    ("estimated", (r"leitura\s+estimada", r"consumo\s+estimado")),
    ("informed", (r"leitura\s+informada", r"auto\s*-?\s*leitura")),
    ("average", (r"faturad[oa]\s+(?:pela|por|na)\s+m[ée]dia", r"calculad[oa]\s+(?:pela|por|na)\s+m[ée]dia",
                 r"cobrad[oa]\s+(?:pela|por|na)\s+m[ée]dia", r"consumo\s+m[ée]dio\s+faturado",
                 r"leitura\s+n[ãa]o\s+realizada")),
))
"""What a bill says when its consumption was not read from the meter (the issue's "média", "leitura
informada"; cemig-bill-layout.md shows only the regular "Leitura realizada conforme calendário").

Each wording is its own pattern, matched against the lower-cased text: a pattern that starts with a literal
is found by a fast scan, while a case-insensitive alternation is tried at every position of the bill
(about 0.3 ms a bill, a fifth of the parse)."""


def reading_basis(text: str) -> str | None:
    """``estimated``, ``informed`` or ``average`` when the bill says its consumption was not read; else None."""
    lowered = text.lower()
    for basis, patterns in _READING_BASIS:
        if any(pattern.search(lowered) for pattern in patterns):
            return basis
    return None
