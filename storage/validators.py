"""Pure validators for unit fields: CPF/CNPJ check digits, CEMIG installation codes, e-mail syntax.

Each returns the normalised value or raises `UnitInputError` with the field name and an actionable reason.
"""

from __future__ import annotations

import re

from storage.errors import UnitInputError

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def digits_only(value: str) -> str:
    """Drop everything but digits (masks like 000.000.000-00 are accepted on input)."""
    return re.sub(r"\D", "", value)


def _check_digit(digits: str, weights: list[int]) -> int:
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return 0 if remainder < 2 else 11 - remainder


def is_valid_cpf(value: str) -> bool:
    """CPF: 11 digits, not all equal, two mod-11 check digits."""
    digits = digits_only(value)
    if len(digits) != 11 or len(set(digits)) == 1:
        return False
    first = _check_digit(digits[:9], list(range(10, 1, -1)))
    second = _check_digit(digits[:10], list(range(11, 1, -1)))
    return digits[9:] == f"{first}{second}"


def is_valid_cnpj(value: str) -> bool:
    """CNPJ: 14 digits, not all equal, two mod-11 check digits."""
    digits = digits_only(value)
    if len(digits) != 14 or len(set(digits)) == 1:
        return False
    weights = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    first = _check_digit(digits[:12], weights)
    second = _check_digit(digits[:13], [6, *weights])
    return digits[12:] == f"{first}{second}"


def normalise_document(value: str, *, field: str = "holder_document") -> str:
    """Return the CPF or CNPJ as digits, or raise when its length or check digits are wrong."""
    digits = digits_only(value)
    if len(digits) == 11:
        if is_valid_cpf(digits):
            return digits
        raise UnitInputError(field, f"CPF {value!r} has wrong check digits",
                             user_message="CPF inválido: confira os dígitos verificadores.")
    if len(digits) == 14:
        if is_valid_cnpj(digits):
            return digits
        raise UnitInputError(field, f"CNPJ {value!r} has wrong check digits",
                             user_message="CNPJ inválido: confira os dígitos verificadores.")
    raise UnitInputError(field, f"{value!r} is neither a CPF (11 digits) nor a CNPJ (14 digits)",
                         user_message="Informe um CPF (11 dígitos) ou CNPJ (14 dígitos).")


def format_document(digits: str) -> str:
    """Mask a CPF/CNPJ the way the portal and the bills print it."""
    if len(digits) == 11:
        return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"
    if len(digits) == 14:
        return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"
    return digits


def normalise_installation(value: str, *, field: str = "installation") -> str:
    """CEMIG's 10-digit "Nº da instalação" or the 15-digit "Unidade Consumidora" code (from 2026)."""
    cleaned = value.strip().replace(" ", "").replace(".", "").replace("-", "")
    if not cleaned.isdigit() or len(cleaned) not in (10, 15):
        raise UnitInputError(
            field,
            f"{value!r} must be CEMIG's 10-digit installation number or the 15-digit UC code",
            user_message="Nº da instalação inválido: use os 10 dígitos da instalação ou os 15 da Unidade Consumidora.",
        )
    return cleaned


_UC_PRINTED = re.compile(r"^\d{1,3}(?:\.\d{3}){1,4}-\d{2}$")
"""The UC code as 2026 bills print it: dotted every three digits from the right, a hyphen before the two
check digits, leading zeros dropped (``4.533.142.018-50`` is ``000453314201850``)."""


def looks_like_uc_code(value: str) -> bool:
    """Whether a typed number is a UC code (15 digits, or the printed dotted form) rather than an installation."""
    cleaned = value.strip().replace(" ", "")
    return bool(_UC_PRINTED.match(cleaned)) or (cleaned.isdigit() and len(cleaned) == 15)


def normalise_uc_code(value: str, *, field: str = "uc_code") -> str:
    """The national 15-digit "Unidade Consumidora" code, from its 15 digits or its printed form (zero-padded).

    The check digits' algorithm is not public, so they are kept as typed, never validated or computed; nor is
    the code ever derived from an installation number (its sequential part is another number).
    """
    cleaned = value.strip().replace(" ", "")
    if _UC_PRINTED.match(cleaned):
        return digits_only(cleaned).zfill(15)
    if cleaned.isdigit() and len(cleaned) == 15:
        return cleaned
    raise UnitInputError(
        field,
        f"{value!r} must be the 15-digit UC code or its printed form like 4.533.142.018-50",
        user_message="Código da Unidade Consumidora inválido: use os 15 dígitos ou o número como impresso na "
                     "fatura (ex.: 4.533.142.018-50).",
    )


def format_uc_code(digits: str) -> str:
    """The UC code as bills print it: ``000453314201850`` → ``4.533.142.018-50``."""
    body, check = digits[:-2].lstrip("0") or "0", digits[-2:]
    groups = []
    while body:
        groups.insert(0, body[-3:])
        body = body[:-3]
    return ".".join(groups) + "-" + check


def normalise_email(value: str, *, field: str = "email") -> str:
    """Trim and lower-case the domain; raise on syntax errors."""
    candidate = value.strip()
    if not _EMAIL.match(candidate) or len(candidate) > 254:
        raise UnitInputError(field, f"{value!r} is not a valid e-mail address",
                             user_message=f"E-mail inválido: {value}")
    local, _, domain = candidate.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalise_email_list(values: list[str] | str, *, field: str = "forward_to") -> list[str]:
    """A list of addresses (or a string separated by commas, semicolons or spaces), deduplicated."""
    items = re.split(r"[,;\s]+", values) if isinstance(values, str) else list(values)
    result: list[str] = []
    for item in items:
        if item.strip():
            email = normalise_email(item, field=field)
            if email not in result:
                result.append(email)
    return result
