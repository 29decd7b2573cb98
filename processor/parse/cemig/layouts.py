"""Which CEMIG layout a bill's text is in, recognised by its labels."""

from __future__ import annotations

import re

from processor.parse.br import MONEY, MONTH, NUMBER
from processor.parse.errors import BillLayoutUnsupported, BillUnparseable

PRE_NF3E = "cemig-pre-nf3e"
"""Modelo 6 "Nota Fiscal/Conta de Energia Elétrica" (JAN/2023 and before): ``SÉRIE U``, ``PTA Nº``, no key."""
NF3E_2023 = "cemig-nf3e-2023"
"""DANF3E (NF3e, modelo 66) from FEV/2023, tax columns of the items table left blank."""
NF3E_2024 = "cemig-nf3e-2024"
"""DANF3E with the PIS/COFINS and ICMS columns filled (from mid-2024)."""
CEMIG_2026 = "cemig-2026"
"""The JAN/2026 redesign keyed by the national 15-digit "Unidade Consumidora" code: not parsed yet."""

LAYOUTS = (PRE_NF3E, NF3E_2023, NF3E_2024, CEMIG_2026)

_ISSUER = re.compile(r"CEMIG DISTRIBUI[ÇC][ÃA]O|06\.981\.180/0001-16|06981180000116")
_DANF3E = re.compile(r"DOCUMENTO AUXILIAR DA NOTA FISCAL DE ENERGIA EL[ÉE]TRICA ELETR[ÔO]NICA|chave de acesso:")
_PRE_NF3E = re.compile(r"S[ÉE]RIE\s+U\b|\bPTA\s+N[ºo°]")
# The new code's label; capitalised, unlike "unidade consumidora" in the older bills' free text.
_UC_2026 = re.compile(
    r"N\.?\s*[ºo°]\s*DA\s+UNIDADE\s+CONSUMIDORA|UNIDADE\s+CONSUMIDORA|Unidade\s+Consumidora\s*:?\s*[\d.\-]{9,}"
)
_INSTALLATION_LABEL = re.compile(r"N[ºo°]\s*DA\s*INSTALA[ÇC][ÃA]O")
_HEADER_YEAR = re.compile(rf"(?<![\w/]){MONTH}/(\d{{4}})\s+\d{{2}}/\d{{2}}/\d{{4}}\s+{MONEY}")
_TOTAL_WITH_TAXES = re.compile(rf"(?m)^\s*TOTAL\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s*$")
_FISCO_TAX_LINE = re.compile(rf"(?m)^\s*(?:ICMS|PASEP|COFINS)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s*$")


def is_cemig(text: str) -> bool:
    """Whether the text names CEMIG Distribuição (by name or CNPJ) as the issuer."""
    return _ISSUER.search(text) is not None


def _is_2026_without_installation(text: str) -> bool:
    """A 2026-or-later bill that no longer prints ``Nº DA INSTALAÇÃO`` is the redesign, whatever its labels."""
    header = _HEADER_YEAR.search(text)
    return header is not None and int(header[1]) >= 2026 and _INSTALLATION_LABEL.search(text) is None


def detect_layout(text: str) -> str:
    """Name the layout of a CEMIG bill's text.

    Raises BillUnparseable when the text is not a CEMIG bill or matches no known layout, and
    BillLayoutUnsupported for the 2026 redesign.
    """
    if not text.strip():
        raise BillUnparseable("the bill text is empty")
    if not is_cemig(text):
        raise BillUnparseable("the text does not name CEMIG Distribuição as its issuer")
    if _UC_2026.search(text) or _is_2026_without_installation(text):
        raise BillLayoutUnsupported(
            f"CEMIG layout {CEMIG_2026!r} (15-digit Unidade Consumidora) is not supported yet",
        )
    if _PRE_NF3E.search(text) and "chave de acesso" not in text:
        return PRE_NF3E
    if _DANF3E.search(text):
        if _TOTAL_WITH_TAXES.search(text) or _FISCO_TAX_LINE.search(text):
            return NF3E_2024
        return NF3E_2023
    raise BillUnparseable("a CEMIG document, but not in any known bill layout")
