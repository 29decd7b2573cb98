"""The payee check: a bill whose payment data names anyone but the utility is never forwarded.

A fake bill (a phishing clone, a tampered PDF) carries a fraudster's barcode or PIX key; forwarded by us
it would reach a client with our name on it. So, whatever DKIM said, every bill's payment data is checked:
the FEBRABAN arrecadação company code of its linha digitável (CEMIG: 0138), and, where the page has a PIX
QR code (2026 bills, unknown layouts), the BR Code's PIX key and merchant name.

CEMIG's PIX data (reference cemig-bill-layout.md §5.3, read from the real ABR/2026 bill): key
`dce71622-c425-4f3c-989d-34853baf9a72`, merchant `CEMIG D.`. The same section names the payee Cemig
Distribuição S.A., CNPJ 06.981.180/0001-16 (from the news, not from a bill), so that CNPJ is accepted as a
key and the merchant is accepted when it starts with CEMIG (a new key or a longer name on other bills);
a key that is none of these is a mismatch even when the merchant says CEMIG.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from processor.parse.generic import COMPANY_CODES, company_code
from processor.pix import Pix


@dataclass(frozen=True)
class Payee:
    """Who a utility's bills pay."""

    company_code: str
    pix_keys: tuple[str, ...]
    merchant_prefixes: tuple[str, ...]


PAYEES: dict[str, Payee] = {
    "cemig": Payee(company_code=COMPANY_CODES["cemig"],
                   pix_keys=("dce71622-c425-4f3c-989d-34853baf9a72", "06981180000116"),
                   merchant_prefixes=("CEMIG",)),
}

USER_MESSAGE = ("Os dados de pagamento desta fatura ({what}) não são da {utility}. Ela foi guardada, mas NÃO foi "
                "encaminhada ao cliente: pode ser uma fatura falsa. Confira a conta no site ou no aplicativo da "
                "distribuidora antes de pagar, e avise o cliente se ele também a recebeu.")


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).upper().strip()


def _key(key: str) -> str:
    """A PIX key compared without case, and a CNPJ/phone key without its punctuation."""
    key = key.strip().lower()
    digits = "".join(c for c in key if c.isdigit())
    return digits if key and all(c.isdigit() or c in ".-/() +" for c in key) else key


def mismatches(utility: str, *, barcode: str | None, pix: Sequence[Pix] = ()) -> list[str]:
    """What in the payment data names someone else (English, for the ledger); empty when all is the utility's.

    A utility with no known payee is not checked. A missing barcode or QR is not a mismatch (the bill
    has other checks); a QR that is not a readable BR Code is not one either.
    """
    payee = PAYEES.get(utility)
    if payee is None:
        return []
    out: list[str] = []
    if barcode is not None:
        code = company_code(barcode)
        if code != payee.company_code:
            out.append(f"barcode company code {code}, not {payee.company_code}")
    allowed = {_key(k) for k in payee.pix_keys}
    for code in pix:  # every PIX QR on the page: a forged bill may add its own beside the genuine one
        if code.key is None or _key(code.key) not in allowed:
            out.append(f"PIX key {code.key!r} is not the utility's")
        if code.merchant is None or not _plain(code.merchant).startswith(payee.merchant_prefixes):
            out.append(f"PIX merchant {code.merchant!r} is not the utility's")
    return out


def user_message(utility: str, found: list[str]) -> str:
    """The pt-BR message of a payee mismatch."""
    parts = []
    if any(f.startswith("barcode") for f in found):
        parts.append("código de barras")
    if any(f.startswith("PIX") for f in found):
        parts.append("QR code Pix")
    return USER_MESSAGE.format(what=" e ".join(parts) or "pagamento", utility=utility.upper())
