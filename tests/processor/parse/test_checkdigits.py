"""Check digits of the FEBRABAN linha digitável and the NF3e access key, on hand-computed examples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from processor.parse.checkdigits import (
    access_key_valid,
    barcode_from_linha,
    linha_digitavel_amount,
    linha_digitavel_valid,
    mod10,
    mod11,
)

# A public AGO/2024 CEMIG bill (docs/reference): R$ 167,80, débito automático code 008128696724.
LINHA = "83630000001-2 67800138006-5 00947330133-2 08128696724-5"
DIGITS = LINHA.replace("-", "").replace(" ", "")
KEY = "31240806981180000116660001825880181088485546"


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        # 3×2=6, 2×1=2, 1×2=2 → 10 → (10 − 0) mod 10 = 0
        ("123", 0),
        # 9×2=18 → 1+8=9, 1×1=1 → 10 → 0
        ("19", 0),
        # 5×2=10 → 1+0=1 → 10 − 1 = 9
        ("5", 9),
        # first block of LINHA, right to left: 1×2=2, six zeros, 3×1=3, 6×2=12→3, 3×1=3, 8×2=16→7 → 18 → 2
        ("83630000001", 2),
    ],
)
def test_mod10(digits, expected):
    assert mod10(digits) == expected


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        # 3×2 + 2×3 + 1×4 = 16; 16 mod 11 = 5 → 11 − 5 = 6
        ("123", 6),
        # 1×2 = 2 → 11 − 2 = 9
        ("1", 9),
        # 5×2 = 10 → remainder 10 → 11 − 10 = 1
        ("5", 1),
        # remainder 0 → 0
        ("0", 0),
        # 6×2 = 12 → remainder 1 → 0 (not 10)
        ("6", 0),
        # weights cycle 2..9 then 2, 3: the 10th digit from the right weighs 3 → 3 → 11 − 3 = 8
        ("1000000000", 8),
    ],
)
def test_mod11(digits, expected):
    assert mod11(digits) == expected


def test_linha_digitavel_of_a_real_bill():
    assert linha_digitavel_valid(DIGITS)
    assert barcode_from_linha(DIGITS) == "83630000001678001380060094733013308128696724"
    assert linha_digitavel_amount(DIGITS) == Decimal("167.80")


def test_general_check_digit_is_the_fourth_barcode_digit():
    barcode = barcode_from_linha(DIGITS)
    assert barcode is not None
    assert mod10(barcode[:3] + barcode[4:]) == int(barcode[3]) == 3


@pytest.mark.parametrize("position", [0, 5, 13, 30, 47])
def test_one_wrong_digit_breaks_the_linha(position):
    wrong = DIGITS[:position] + str((int(DIGITS[position]) + 1) % 10) + DIGITS[position + 1 :]
    assert not linha_digitavel_valid(wrong)


def test_linha_with_wrong_length_or_product_is_invalid():
    assert not linha_digitavel_valid(DIGITS[:-1])
    assert not linha_digitavel_valid("2" + DIGITS[1:])
    assert barcode_from_linha("12ab") is None


def test_reference_value_codes_carry_no_amount():
    # third digit 7 = "valor de referência": the digits are not an amount to compare
    reference = DIGITS[:2] + "7" + DIGITS[3:]
    assert linha_digitavel_amount(reference) is None


def test_access_key():
    assert access_key_valid(KEY)
    assert mod11(KEY[:43]) == 6
    assert not access_key_valid(KEY[:43] + "7")
    assert not access_key_valid(KEY[:-1])
    assert not access_key_valid("x" * 44)
