"""Cross-checks that decide whether a parsed bill is trusted (``parsed``) or needs a human (``needs_review``).

Each check is a name → passed entry in ``Bill.checks``. A check that cannot apply (no barcode on a
débito-automático bill, no access key before NF3e) is left out rather than passed or failed.
"""

from __future__ import annotations

from decimal import Decimal

from processor.parse.checkdigits import access_key_valid, linha_digitavel_amount, linha_digitavel_valid
from processor.parse.schema import Bill

TOLERANCE = Decimal("0.01")
REQUIRED_FIELDS = ("reference_month", "due_date", "amount_due")
"""Besides the unit's number: the installation or (2026 bills) the UC code."""


def required_fields_present(bill: Bill) -> bool:
    """Whether the fields needed to file and route a bill were all read (installation or UC code included)."""
    if bill.installation is None and bill.uc_code is None:
        return False
    return all(getattr(bill, name) is not None for name in REQUIRED_FIELDS)


def items_sum_matches_total(bill: Bill) -> bool:
    """Whether the items (credits negative) add up to the amount due, and the printed TOTAL agrees."""
    if bill.amount_due is None or not bill.items:
        return False
    amount = Decimal(bill.amount_due)
    total = sum((Decimal(item.amount) for item in bill.items), Decimal(0))
    if bill.items_total is not None and abs(Decimal(bill.items_total) - amount) > TOLERANCE:
        return False
    return abs(total - amount) <= TOLERANCE


def barcode_amount_matches_total(bill: Bill) -> bool:
    """Whether the amount encoded in the linha digitável equals the amount due."""
    if bill.barcode is None or bill.amount_due is None:
        return False
    encoded = linha_digitavel_amount(bill.barcode)
    return encoded is not None and abs(encoded - Decimal(bill.amount_due)) <= TOLERANCE


def barcode_check_digits(bill: Bill) -> bool:
    """Whether every block check digit and the general check digit of the linha digitável are right."""
    return bill.barcode is not None and linha_digitavel_valid(bill.barcode)


def access_key_check_digit(bill: Bill) -> bool:
    """Whether the NF3e access key carries its module-11 check digit."""
    return bill.access_key is not None and access_key_valid(bill.access_key)


def standard_checks(bill: Bill, *, access_key_expected: bool = False) -> dict[str, bool]:
    """The checks every utility's bill gets; barcode and key checks only when the bill has them.

    With ``access_key_expected`` (an NF3e layout prints one), a missing key fails the key check.
    """
    checks = {
        "required_fields_present": required_fields_present(bill),
        "items_sum_matches_total": items_sum_matches_total(bill),
    }
    if bill.barcode is not None:
        checks["barcode_amount_matches_total"] = barcode_amount_matches_total(bill)
        checks["barcode_check_digits"] = barcode_check_digits(bill)
    if bill.access_key is not None or access_key_expected:
        checks["access_key_check_digit"] = access_key_check_digit(bill)
    return checks


def _digits(value: str) -> str:
    return "".join(char for char in value if char.isdigit()).lstrip("0")


def installation_matches(bill: Bill, expected_installation: str) -> bool:
    """Whether the bill's installation or UC code is the unit's number (masks and leading zeros ignored).

    The two numbers are never derived from each other: each printed number is compared as it is.
    """
    expected = _digits(expected_installation)
    printed = [_digits(code) for code in (bill.installation, bill.uc_code) if code is not None]
    return expected != "" and expected in printed


def checks_passed(bill: Bill, expected_installation: str | None = None) -> bool:
    """Whether the bill can be trusted: it has checks, all passed, and (if given) it is the unit's bill."""
    if not bill.checks or not all(bill.checks.values()):
        return False
    return expected_installation is None or installation_matches(bill, expected_installation)
