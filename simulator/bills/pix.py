"""The PIX BR Code a 2026 CEMIG bill prints as a QR code (reference cemig-bill-layout.md §5.3).

Static BR Code, as on the real ABR/2026 bill: CEMIG's key, merchant `CEMIG D.`, city `Belo Horizonte`,
description `Conta Ref MMM/AA Vencimento dd/mm/aa`, amount = the total, txid = the barcode's free field.
Tests pass another key or merchant to make a forged bill.
"""

from __future__ import annotations

from processor.pix import PIX_GUI, with_crc

CEMIG_PIX_KEY = "dce71622-c425-4f3c-989d-34853baf9a72"
CEMIG_MERCHANT = "CEMIG D."
CEMIG_CITY = "Belo Horizonte"
_MONTHS = ("JAN", "FEV", "MAR", "ABR", "MAI", "JUN", "JUL", "AGO", "SET", "OUT", "NOV", "DEZ")


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"EMV field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def br_code(*, amount: str, reference_month: str, due_date: str, barcode: str, key: str = CEMIG_PIX_KEY,
            merchant: str = CEMIG_MERCHANT, city: str = CEMIG_CITY) -> str:
    """The BR Code text; `amount` like ``644.54``, months/dates ISO, `barcode` the 44 digits."""
    year, month = reference_month.split("-")
    due = f"{due_date[8:10]}/{due_date[5:7]}/{due_date[2:4]}"
    description = f"Conta Ref {_MONTHS[int(month) - 1]}/{year[2:]} Vencimento {due}"
    account = _field("00", PIX_GUI) + _field("01", key) + _field("02", description)
    body = (_field("00", "01") + _field("26", account) + _field("52", "0000") + _field("53", "986")
            + _field("54", amount) + _field("58", "BR") + _field("59", merchant[:25]) + _field("60", city[:15])
            + _field("62", _field("05", barcode[19:44])))
    return with_crc(body)
