"""Which CEMIG layout a bill's text is in, recognised by its labels."""

from __future__ import annotations

import re

from processor.parse.br import MONEY, MONTH, NUMBER, leads_its_line
from processor.parse.errors import BillUnparseable

PRE_NF3E = "cemig-pre-nf3e"
"""Modelo 6 "Nota Fiscal/Conta de Energia Elétrica" (JAN/2023 and before): ``SÉRIE U``, ``PTA Nº``, no key."""
NF3E_2023 = "cemig-nf3e-2023"
"""DANF3E (NF3e, modelo 66) from FEV/2023, tax columns of the items table left blank."""
NF3E_2024 = "cemig-nf3e-2024"
"""DANF3E with the PIS/COFINS and ICMS columns filled (from mid-2024)."""
NF3E_2026 = "cemig-nf3e-2026"
"""The DANF3E keyed by the national 15-digit "Unidade Consumidora" code (JAN/2026 on): the 2024 tables with
``N.º DA UNIDADE CONSUMIDORA`` in place of ``Nº DO CLIENTE`` / ``Nº DA INSTALAÇÃO``, section labels in text."""
CEMIG_2026 = "cemig-2026"
"""The green 2026 design (QR code on top, consolidated block) whose section labels may be images: read by the
shape of its values, not by labels."""

LAYOUTS = (PRE_NF3E, NF3E_2023, NF3E_2024, NF3E_2026, CEMIG_2026)
LAYOUTS_2026 = (NF3E_2026, CEMIG_2026)

# Several patterns rather than one alternation (here and in `_UC_2026`, `_FISCO_TAX_LINES`): each starts with a
# literal and is found by a fast scan, while an alternation is tried at every position holding one of its first letters.
_ISSUER = (re.compile(r"CEMIG DISTRIBUI[ÇC][ÃA]O"), re.compile(r"06\.981\.180/0001-16"), re.compile(r"06981180000116"))
_DANF3E = (re.compile(r"DOCUMENTO AUXILIAR DA NOTA FISCAL DE ENERGIA EL[ÉE]TRICA ELETR[ÔO]NICA"),
           re.compile(r"chave de acesso:"))
_PRE_NF3E = (re.compile(r"S[ÉE]RIE\s+U\b"), re.compile(r"PTA(?<!\wPTA)\s+N[ºo°]"))
# The new code's label; capitalised, unlike "unidade consumidora" in the older bills' free text. The full label
# (`N.º DA UNIDADE CONSUMIDORA`) holds the first pattern, so it needs none of its own.
_UC_2026 = (re.compile(r"UNIDADE\s+CONSUMIDORA"), re.compile(r"Unidade\s+Consumidora\s*:?\s*[\d.\-]{9,}"))
_UC_CEMIG_SHAPE = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{3}){0,3}\.018-\d{2}(?![\d-])")
# The 2024 DANF3E's section labels as text: all present means the table-labelled 2026 DANF3E.
_TEXT_LABELS = (
    re.compile(r"Itens\s+da\s+Fatura"),
    re.compile(r"Referente\s+a\b"),
    re.compile(r"Classe\s+Subclasse"),
)
_INSTALLATION_LABEL = re.compile(r"N[ºo°]\s*DA\s*INSTALA[ÇC][ÃA]O")
_HEADER_YEAR = re.compile(rf"(?<![\w/]){MONTH}/(\d{{4}})\s+\d{{2}}/\d{{2}}/\d{{4}}\s+{MONEY}")
_TOTAL_WITH_TAXES = re.compile(rf"(?m)TOTAL\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s*$")
"""Led by nothing but blanks on its line (`_leads_its_line`): checked apart, so the search starts on a literal."""
_FISCO_TAX_LINES = tuple(
    re.compile(rf"(?m){name}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s*$") for name in ("ICMS", "PASEP", "COFINS")
)
"""A tax row of the *Reservado ao Fisco* box, led by nothing but blanks on its line (`_leads_its_line`)."""


def _leads_its_line(pattern: re.Pattern[str], text: str) -> bool:
    """Whether `pattern` matches somewhere with only blanks before it on its line (a `(?m)^` + blanks + pattern)."""
    return any(leads_its_line(text, match.start()) for match in pattern.finditer(text))


def is_cemig(text: str) -> bool:
    """Whether the text names CEMIG Distribuição (by name or CNPJ) as the issuer."""
    return any(pattern.search(text) for pattern in _ISSUER)


def _is_2026_without_installation(text: str) -> bool:
    """A 2026-or-later bill that no longer prints ``Nº DA INSTALAÇÃO`` is the redesign, whatever its labels."""
    header = _HEADER_YEAR.search(text)
    return header is not None and int(header[1]) >= 2026 and _INSTALLATION_LABEL.search(text) is None


def _is_2026(text: str) -> bool:
    """Whether the bill is keyed by the UC code (2026 on).

    That is: the UC label, a CEMIG-shaped UC (``….018-DV``) with no installation label, or a 2026 header
    without ``Nº DA INSTALAÇÃO``.
    """
    if any(pattern.search(text) for pattern in _UC_2026):
        return True
    if _INSTALLATION_LABEL.search(text):
        return False
    return _UC_CEMIG_SHAPE.search(text) is not None or _is_2026_without_installation(text)


def detect_layout(text: str) -> str:
    """Name the layout of a CEMIG bill's text.

    Raises BillUnparseable when the text is not a CEMIG bill or matches no known layout. The 2026 bills are
    ``cemig-nf3e-2026`` when the DANF3E section labels are text, else ``cemig-2026`` (the green design).
    """
    if not text.strip():
        raise BillUnparseable("the bill text is empty")
    if not is_cemig(text):
        raise BillUnparseable("the text does not name CEMIG Distribuição as its issuer")
    if _is_2026(text):
        if all(label.search(text) for label in _TEXT_LABELS):
            return NF3E_2026
        return CEMIG_2026
    if any(pattern.search(text) for pattern in _PRE_NF3E) and "chave de acesso" not in text:
        return PRE_NF3E
    if any(pattern.search(text) for pattern in _DANF3E):
        if any(_leads_its_line(pattern, text) for pattern in (_TOTAL_WITH_TAXES, *_FISCO_TAX_LINES)):
            return NF3E_2024
        return NF3E_2023
    raise BillUnparseable("a CEMIG document, but not in any known bill layout")
