"""A reviewed bill as a golden-test pair: its text with personal data masked, and its confirmed fields.

`faturas invoices export-fixture ID` writes `<stem>.txt` and `<stem>.expected.json`; a developer drops
both into `tests/processor/parse/golden/`, where `test_text_golden.py` parses the text and compares it
with every field the JSON knows (a new layout's pair fails there until the parser learns the layout).

Masked, in the text and in the JSON alike, so that the pair stays consistent:
- the holder's and the client's names (`NOME OCULTO`), and the name-and-address block (up to four lines in
  capitals beside a `CEP City, UF` line) on any layout, its name line masked wherever the name recurs;
- documents: CPF and CNPJ (whole or partly starred; the utility's own CNPJ stays, it names the issuer),
  the unit's holder document wherever its digits appear, RG numbers;
- the payment codes: the linha digitável and the 44-digit barcode keep their product, segment, amount and
  payee company code, but their free field (which carries the customer's codes) is zeroed and their check
  digits recomputed, so a parser still reads the amount and the payee; the bars drawn as text, the
  automatic-debit code, and PIX BR Code payloads (EMV `000201…6304XXXX`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from processor.parse.checkdigits import _modulus_for, barcode_from_linha, linha_digitavel_valid

NAME = "NOME OCULTO"
ADDRESS = "ENDEREÇO OCULTO"
CITY = "00000-000 CIDADE OCULTA, UF"
UTILITY_CNPJS = {"06981180000116"}
"""CEMIG Distribuição's CNPJ: the issuer, printed on every bill, not personal data."""

_CPF = re.compile(r"(?<![\d*.])[\d*]{3}\.[\d*]{3}\.[\d*]{3}-[\d*]{2}(?![\d*])")
"""A CPF, whole or starred; not the tail of a longer dotted number (the UC code prints as 87.540.132.018-36)."""
_CNPJ = re.compile(r"(?<![\d*.])[\d*]{2}\.[\d*]{3}\.[\d*]{3}/[\d*]{4}-[\d*]{2}(?![\d*])")
_RG = re.compile(r"\bRG\s+\S+")
_CEP_LINE = re.compile(r"^\s*\d{5}-\d{3}\b")
_BLOCK = r"(\d{11})([- ]?)(\d)"
_LINHA = re.compile(rf"(?<!\d){_BLOCK}(\s+){_BLOCK}(\s+){_BLOCK}(\s+){_BLOCK}(?!\d)")
_DIGIT_RUN = re.compile(r"(?<!\d)\d{44}(?:\d{4})?(?!\d)")
_BARS = re.compile(r"[NnWw]{40,}")
_PIX = re.compile(r"000201\S*?br\.gov\.bcb\.pix\S*?6304[0-9A-Fa-f]{4}", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Personal:
    """What is known to be personal on one bill: names, the holder's document, and the bill's own codes."""

    names: tuple[str, ...] = ()
    document: str | None = None
    automatic_debit_code: str | None = None


def masked_barcode(barcode44: str) -> str:
    """A 44-digit arrecadação barcode with its free field zeroed and its general check digit recomputed."""
    code = barcode44[:19] + "0" * 25
    modulus = _modulus_for(code[2])
    if modulus is None:
        return "0" * 44
    return code[:3] + str(modulus(code[:3] + code[4:])) + code[4:]


def masked_linha(linha48: str) -> str:
    """A 48-digit linha digitável masked as `masked_barcode`, its four block check digits recomputed."""
    barcode = barcode_from_linha(linha48)
    if barcode is None:
        return "0" * 48
    code = masked_barcode(barcode)
    modulus = _modulus_for(code[2]) or (lambda _digits: 0)
    return "".join(code[i:i + 11] + str(modulus(code[i:i + 11])) for i in range(0, 44, 11))


def _linha_in_text(match: re.Match[str]) -> str:
    groups = match.groups()
    digits = "".join(groups[i] + groups[i + 2] for i in range(0, 16, 4))
    if not linha_digitavel_valid(digits):
        return match.group(0)
    masked = masked_linha(digits)
    out = []
    for block in range(4):
        sep, space = groups[block * 4 + 1], groups[block * 4 + 3] if block < 3 else ""
        out.append(masked[block * 12:block * 12 + 11] + sep + masked[block * 12 + 11] + space)
    return "".join(out)


def _digit_run(match: re.Match[str]) -> str:
    run = match.group(0)
    if len(run) == 48 and linha_digitavel_valid(run):
        return masked_linha(run)
    if len(run) == 44 and run.startswith("8"):
        modulus = _modulus_for(run[2])
        if modulus is not None and modulus(run[:3] + run[4:]) == int(run[3]):
            return masked_barcode(run)
    return run


def _document(match: re.Match[str]) -> str:
    value = match.group(0)
    if re.sub(r"\D", "", value) in UTILITY_CNPJS:
        return value
    return re.sub(r"[\d*]", "0", value)


_UPPER_LINE = re.compile(r"^[A-ZÀ-Ý0-9][A-ZÀ-Ý0-9 .,'ºª°/&-]*$")
"""A line of the name-and-address block: capitals, digits and address punctuation, nothing lower-case."""
_FIGURES = re.compile(r"\d/\d|\d,\d{2}\b")
"""Dates and money: a line holding them is the bill's figures, not an address."""


_WORD = re.compile(r"[A-ZÀ-Ý]{3,}")
_DOCUMENT_LABEL = re.compile(r"^(CPF|CNPJ|RG|CEP)\b")


def _block_line(line: str) -> bool:
    """A capital line with a word in it: not the utility's, nor a document, nor a line of dates or money."""
    text = line.strip()
    return (bool(_UPPER_LINE.match(text)) and bool(_WORD.search(text)) and "CEMIG" not in text
            and not _DOCUMENT_LABEL.match(text) and not _FIGURES.search(text))


def _blocks(lines: list[str]) -> list[tuple[int, list[int], int]]:
    """(name line, address lines, CEP line) of each name-and-address block around a `CEP City, UF` line.

    CEMIG prints up to four capital lines (name first) above the CEP line; a layout that prints them in
    another order is read the other way: when nothing qualifies above, the lines below are taken, the
    farthest being the name.
    """
    found = []
    for cep, line in enumerate(lines):
        if not _CEP_LINE.match(line):
            continue
        above: list[int] = []
        while len(above) < 4 and cep - len(above) - 1 >= 0 and _block_line(lines[cep - len(above) - 1]):
            above.append(cep - len(above) - 1)
        block = above
        if not block:
            while len(block) < 4 and cep + len(block) + 1 < len(lines) and _block_line(lines[cep + len(block) + 1]):
                block.append(cep + len(block) + 1)
        if block:
            found.append((block[-1], block[:-1], cep))
    return found


def _block_names(text: str) -> set[str]:
    """The name line of each name-and-address block: the holder's name as printed, on any layout."""
    names: set[str] = set()
    for page in text.split("\f"):
        lines = page.split("\n")
        names.update(lines[name].strip() for name, _, _ in _blocks(lines))
    return names


def _mask_blocks(lines: list[str]) -> list[str]:
    out = list(lines)
    for name, address, cep in _blocks(lines):
        out[name] = NAME
        for index in address:
            out[index] = ADDRESS
        out[cep] = CITY
    return out


def mask_text(text: str, personal: Personal) -> str:
    """The bill's text with every personal value of `personal` and every personal pattern replaced."""
    names = {n.strip() for n in (*personal.names, *_block_names(text)) if n and len(n.strip()) >= 3}
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(re.escape(name), NAME, text, flags=re.IGNORECASE)
    text = _PIX.sub("PIX-OCULTO", text)
    text = _LINHA.sub(_linha_in_text, text)
    text = _DIGIT_RUN.sub(_digit_run, text)
    text = _BARS.sub(lambda m: "n" * len(m.group(0)), text)
    text = _CNPJ.sub(_document, text)
    text = _CPF.sub(_document, text)
    text = _RG.sub("RG 000000", text)
    if personal.document:
        digits = re.sub(r"\D", "", personal.document)
        if len(digits) >= 11:
            text = re.sub(rf"(?<!\d){digits}(?!\d)", "0" * len(digits), text)
    if personal.automatic_debit_code:
        code = personal.automatic_debit_code
        text = re.sub(rf"(?<!\d){re.escape(code)}(?!\d)", "0" * len(code), text)
    return "\f".join("\n".join(_mask_blocks(page.split("\n"))) for page in text.split("\f"))


def mask_bill(data: dict[str, Any]) -> dict[str, Any]:
    """The bill-schema JSON masked as `mask_text` masks the text; `sources` emptied (a layout parser's form)."""
    out = dict(data)
    if out.get("holder_name"):
        out["holder_name"] = NAME
    barcode = out.get("barcode")
    if barcode and len(barcode) == 48:
        out["barcode"] = masked_linha(barcode)
    elif barcode and len(barcode) == 44:
        out["barcode"] = masked_barcode(barcode)
    if out.get("automatic_debit_code"):
        out["automatic_debit_code"] = "0" * len(out["automatic_debit_code"])
    out["sources"] = {}
    return out


def golden_pair(text: str, data: dict[str, Any], *, names: tuple[str, ...] = (),
                document: str | None = None) -> tuple[str, dict[str, Any]]:
    """(masked text, masked expected JSON) for one reviewed bill."""
    personal = Personal(names=(*names, data.get("holder_name") or ""), document=document,
                        automatic_debit_code=data.get("automatic_debit_code"))
    return mask_text(text, personal), mask_bill(data)
