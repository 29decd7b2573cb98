"""Check digits of the FEBRABAN arrecadação linha digitável and of the NF3e/NF-e access key."""

from __future__ import annotations

from decimal import Decimal


def mod10(digits: str) -> int:
    """FEBRABAN module 10: weights 2,1,2,1… from the right, digits of each product summed."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def mod11(digits: str) -> int:
    """Module 11 with weights 2..9 from the right; a remainder of 0 or 1 gives 0 (FEBRABAN, NF-e)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        total += int(char) * (2 + position % 8)
    remainder = total % 11
    return 0 if remainder in (0, 1) else 11 - remainder


def _modulus_for(value_id: str):
    """The third digit of an arrecadação code picks the modulus: 6/7 → 10, 8/9 → 11."""
    if value_id in "67":
        return mod10
    if value_id in "89":
        return mod11
    return None


def barcode_from_linha(linha: str) -> str | None:
    """The 44-digit barcode inside a 48-digit arrecadação linha digitável (4 × 11 digits + DV)."""
    if len(linha) != 48 or not linha.isdigit():
        return None
    return "".join(linha[block * 12 : block * 12 + 11] for block in range(4))


def linha_digitavel_valid(linha: str) -> bool:
    """Whether each block's DV and the general DV (4th barcode digit) of a linha digitável are right."""
    barcode = barcode_from_linha(linha)
    if barcode is None or barcode[0] != "8":
        return False
    modulus = _modulus_for(barcode[2])
    if modulus is None:
        return False
    for block in range(4):
        body, dv = linha[block * 12 : block * 12 + 11], linha[block * 12 + 11]
        if modulus(body) != int(dv):
            return False
    return modulus(barcode[:3] + barcode[4:]) == int(barcode[3])


def linha_digitavel_amount(linha: str) -> Decimal | None:
    """The amount (reais) encoded in digits 5–15 of the barcode; None for a "valor de referência" code."""
    barcode = barcode_from_linha(linha)
    if barcode is None or barcode[2] not in "68":
        return None
    return Decimal(barcode[4:15]) / 100


def access_key_valid(key: str) -> bool:
    """Whether a 44-digit NF3e/NF-e access key ends with its module-11 check digit."""
    if len(key) != 44 or not key.isdigit():
        return False
    return mod11(key[:43]) == int(key[43])
