"""Check digits and codes printed on a CEMIG bill: NF3e access key and FEBRABAN arrecadação barcode.

The arrecadação ("convênio") barcode has 44 digits: product ``8``, segment (``3`` = energy), value
identifier (``6``/``7`` → modulo 10, ``8``/``9`` → modulo 11), the general check digit, 11 digits of
amount in cents, the 4-digit company code (``0138`` for CEMIG) and a 25-digit free field. The
"linha digitável" splits it into four blocks of 11 digits, each followed by its own check digit
computed with the same modulus, giving 48 digits.
"""

from __future__ import annotations

from decimal import Decimal

CEMIG_CNPJ = "06981180000116"
CEMIG_COMPANY_CODE = "0138"
"""CEMIG's FEBRABAN company code in the barcode (positions 16–19), as on the real bills."""


def mod10(digits: str) -> int:
    """FEBRABAN modulo 10: weights 2,1,2,1… from the right, products' digits summed."""
    total = 0
    weight = 2
    for char in reversed(digits):
        product = int(char) * weight
        total += product // 10 + product % 10
        weight = 1 if weight == 2 else 2
    return (10 - total % 10) % 10


def mod11_febraban(digits: str) -> int:
    """FEBRABAN arrecadação modulo 11: weights 2..9 from the right; remainder 0/1 → 0, 10 → 1."""
    total = 0
    weight = 2
    for char in reversed(digits):
        total += int(char) * weight
        weight = 2 if weight == 9 else weight + 1
    remainder = total % 11
    if remainder in (0, 1):
        return 0
    if remainder == 10:
        return 1
    return 11 - remainder


def mod11_access_key(digits: str) -> int:
    """NF-e/NF3e access key modulo 11: weights 2..9 from the right; remainder 0/1 → 0."""
    total = 0
    weight = 2
    for char in reversed(digits):
        total += int(char) * weight
        weight = 2 if weight == 9 else weight + 1
    remainder = total % 11
    return 0 if remainder in (0, 1) else 11 - remainder


def access_key(
    *,
    year_month: str,
    series: str,
    number: str,
    random_code: str,
    emission_type: str = "1",
    site: str = "0",
    state: str = "31",
    cnpj: str = CEMIG_CNPJ,
    model: str = "66",
) -> str:
    """Build a 44-digit NF3e access key (``year_month`` as ``AAMM``) with its check digit."""
    body = f"{state}{year_month}{cnpj}{model}{series:0>3}{number:0>9}{emission_type}{site}{random_code:0>7}"
    if len(body) != 43 or not body.isdigit():
        raise ValueError("access key body must be 43 digits")
    return body + str(mod11_access_key(body))


def access_key_is_valid(key: str) -> bool:
    """Whether a 44-digit access key carries the right check digit."""
    return len(key) == 44 and key.isdigit() and mod11_access_key(key[:43]) == int(key[43])


def _check_digit(value_id: str, digits: str) -> int:
    return mod10(digits) if value_id in "67" else mod11_febraban(digits)


def arrecadacao_barcode(
    *, amount: Decimal, free_field: str, segment: str = "3", value_id: str = "6", company: str = CEMIG_COMPANY_CODE
) -> str:
    """Build the 44-digit arrecadação barcode for ``amount`` (R$, two decimals)."""
    cents = int((amount * 100).to_integral_exact())
    if cents < 0 or cents >= 10**11:
        raise ValueError("amount out of range for a barcode")
    if len(free_field) != 25 or not free_field.isdigit():
        raise ValueError("free field must be 25 digits")
    without_dv = f"8{segment}{value_id}{cents:011d}{company}{free_field}"
    dv = _check_digit(value_id, without_dv)
    return without_dv[:3] + str(dv) + without_dv[3:]


def linha_digitavel(barcode: str) -> str:
    """The 48-digit linha digitável (digits only) of a 44-digit arrecadação barcode."""
    if len(barcode) != 44 or not barcode.isdigit() or barcode[0] != "8":
        raise ValueError("not an arrecadação barcode")
    value_id = barcode[2]
    blocks = [barcode[i : i + 11] for i in range(0, 44, 11)]
    return "".join(block + str(_check_digit(value_id, block)) for block in blocks)


def format_linha_digitavel(digits: str) -> str:
    """``83610000001-4 10120138001-7 …`` as printed on the bill."""
    return " ".join(f"{digits[i : i + 11]}-{digits[i + 11]}" for i in range(0, 48, 12))


def barcode_from_linha(digits: str) -> str:
    """The 44-digit barcode inside a 48-digit linha digitável (block check digits dropped)."""
    return "".join(digits[i : i + 11] for i in range(0, 48, 12))


def linha_digitavel_is_valid(digits: str) -> bool:
    """Whether every block check digit and the general check digit of a linha digitável are right."""
    if len(digits) != 48 or not digits.isdigit() or digits[0] != "8":
        return False
    value_id = digits[2]
    for i in range(0, 48, 12):
        if _check_digit(value_id, digits[i : i + 11]) != int(digits[i + 11]):
            return False
    barcode = barcode_from_linha(digits)
    return _check_digit(value_id, barcode[:3] + barcode[4:]) == int(barcode[3])


def linha_digitavel_amount(digits: str) -> Decimal:
    """The amount (R$) a linha digitável encodes (barcode positions 5–15)."""
    return Decimal(int(barcode_from_linha(digits)[4:15])).scaleb(-2)
