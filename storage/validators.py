"""Pure validators for unit fields: CPF/CNPJ check digits, CEMIG installation codes, e-mail syntax, plain text.

`check_plain_text` is the one place where lengths and characters of every text field are checked, for the
CSV import, the JSON API and the dashboard alike (they all build a `storage.models.UnitFields`), so a NUL
byte or an over-long value is a named input error, never a database `DataError`.

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


# Longest accepted value per field (the column's size; secrets are encrypted, so any sane length fits).
TEXT_LIMITS = {"installation": 32, "uc_code": 32, "client_name": 200, "holder_document": 32, "portal_login": 254,
               "portal_password": 1000, "pdf_password": 1000, "forward_to": 254}
MAX_LIST_ITEMS = 20
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_plain_text(data: object) -> object:
    """Refuse NUL and other control characters and over-long values in a unit's fields (UnitInputError).

    Takes the raw input mapping (before field validation) and returns it unchanged.
    """
    if not isinstance(data, dict):
        return data
    for key, value in data.items():
        name = str(key)
        if name not in TEXT_LIMITS:
            continue
        values = value if isinstance(value, list) else [value]
        if isinstance(value, list) and len(value) > MAX_LIST_ITEMS:
            raise UnitInputError(name, f"has more than {MAX_LIST_ITEMS} items",
                                 user_message=f"No máximo {MAX_LIST_ITEMS} endereços.")
        for item in values:
            if not isinstance(item, str):
                continue
            if _CONTROL.search(item):
                raise UnitInputError(name, "must not contain NUL or other control characters",
                                     user_message="O campo contém caracteres de controle (como NUL); remova-os.")
            if len(item) > TEXT_LIMITS[name]:
                raise UnitInputError(name, f"is longer than {TEXT_LIMITS[name]} characters",
                                     user_message=f"O campo tem mais de {TEXT_LIMITS[name]} caracteres.")
    return data


def _check_digit(digits: str, weights: list[int]) -> int:
    # ord(c) - 48 is the digit's value for 0-9 and, for the alphanumeric CNPJ (Receita Federal, from July
    # 2026), A=17, B=18 ... Z=42; the weights and the mod-11 rule are the same as the numeric CNPJ's.
    remainder = sum((ord(d) - 48) * w for d, w in zip(digits, weights, strict=True)) % 11
    return 0 if remainder < 2 else 11 - remainder


def is_valid_cpf(value: str) -> bool:
    """CPF: 11 digits, not all equal, two mod-11 check digits."""
    digits = digits_only(value)
    if len(digits) != 11 or len(set(digits)) == 1:
        return False
    first = _check_digit(digits[:9], list(range(10, 1, -1)))
    second = _check_digit(digits[:10], list(range(11, 1, -1)))
    return digits[9:] == f"{first}{second}"


_ALNUM_CNPJ = re.compile(r"^[0-9A-Z]{12}[0-9]{2}$")


def document_chars(value: str) -> str:
    """Digits and (upper-cased) letters only: masks like 12.ABC.345/01DE-35 are accepted on input."""
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()


def is_valid_cnpj(value: str) -> bool:
    """CNPJ: 12 digits or upper-case letters (alphanumeric from July 2026) + 2 mod-11 check digits, not all equal."""
    digits = document_chars(value)
    if not _ALNUM_CNPJ.match(digits) or len(set(digits)) == 1:
        return False
    weights = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    first = _check_digit(digits[:12], weights)
    second = _check_digit(digits[:13], [6, *weights])
    return digits[12:] == f"{first}{second}"


def normalise_document(value: str, *, field: str = "holder_document") -> str:
    """Return the CPF or CNPJ as digits (and upper-case letters for an alphanumeric CNPJ), or raise."""
    digits = document_chars(value)
    if not digits.isdigit() and len(digits) == 14:
        if is_valid_cnpj(digits):
            return digits
        raise UnitInputError(field, f"alphanumeric CNPJ {value!r} has wrong check digits or characters",
                             user_message="CNPJ inválido: confira as letras, os números e os dígitos verificadores.")
    if not digits.isdigit():
        raise UnitInputError(field, f"{value!r} is neither a CPF (11 digits) nor a CNPJ (14 characters)",
                             user_message="Informe um CPF (11 dígitos) ou CNPJ (14 caracteres).")
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


def normalise_email_list(values: object, *, field: str = "forward_to") -> list[str]:
    """A list of addresses (or a string separated by commas, semicolons or spaces), deduplicated.

    Anything else (a number, an object, a list holding non-strings) is a UnitInputError, not a TypeError.
    """
    if isinstance(values, str):
        items = re.split(r"[,;\s]+", values)
    elif isinstance(values, list | tuple) and all(isinstance(item, str) for item in values):
        items = list(values)
    else:
        raise UnitInputError(field, "must be a list of e-mail addresses (strings)",
                             user_message="Informe uma lista de endereços de e-mail.")
    result: list[str] = []
    for item in items:
        if item.strip():
            email = normalise_email(item, field=field)
            if email not in result:
                result.append(email)
    return result
