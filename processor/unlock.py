"""Unlock: open an encrypted PDF with the unit's password, then the utility's candidate rules.

The original bytes are kept (stored and forwarded as they came); a decrypted copy is made only for
reading. The one place where pypdf errors are translated (corrupt → BillUnreadable, no password
works → BillLocked). Passwords never appear in messages or logs; only which source worked.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from pypdf import PdfReader, PdfWriter

from processor.config import RULE_FIELD
from processor.errors import BillLocked, BillUnreadable
from processor.types import PdfPart, UnlockedPdf


def rule_candidates(rules: Sequence[str], *, document: str | None, installation: str | None,
                    uc_code: str | None) -> list[str]:
    """Expand templates such as "{document[0:5]}" with the unit's data; rules needing a missing field drop out."""
    values = {"document": document, "installation": installation, "uc_code": uc_code}
    out: list[str] = []
    for rule in rules:
        missing = False

        def fill(match, values=values) -> str:  # noqa: ANN001 - re.Match
            nonlocal missing
            value = values[match.group(1)]
            if not value:
                missing = True
                return ""
            start = int(match.group(2)) if match.group(2) else None
            end = int(match.group(3)) if match.group(3) else None
            return value[start:end] if match.group(0).endswith("]}") else value

        candidate = RULE_FIELD.sub(fill, rule)
        if not missing and candidate and candidate not in out:
            out.append(candidate)
    return out


def unlock(part: PdfPart, *, passwords: Sequence[tuple[str, str]]) -> UnlockedPdf:
    """A readable PDF; `passwords` are (source, password) pairs tried in order after the empty password."""
    if b"/Encrypt" not in part.data:  # cheap sniff: an unencrypted PDF needs no pypdf round trip
        return UnlockedPdf(filename=part.filename, original=part.data, readable=part.data)
    try:
        reader = PdfReader(io.BytesIO(part.data))
        encrypted = reader.is_encrypted
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on corrupt input: translate them all here
        raise BillUnreadable(f"the PDF {part.filename or ''} is corrupt: {type(exc).__name__}") from exc
    if not encrypted:
        return UnlockedPdf(filename=part.filename, original=part.data, readable=part.data)
    for source, password in (("empty", ""), *passwords):
        try:
            if not reader.decrypt(password):
                continue
            out = io.BytesIO()
            PdfWriter(clone_from=reader).write(out)
        except Exception as exc:  # noqa: BLE001 - see above; a failure here is not a wrong password
            raise BillUnreadable(f"the encrypted PDF {part.filename or ''} cannot be decrypted: "
                                 f"{type(exc).__name__}") from exc
        return UnlockedPdf(filename=part.filename, original=part.data, readable=out.getvalue(),
                           password_source=source)
    tried = "no password is registered for the unit" if not passwords else \
        f"none of the {len(passwords)} candidate password(s) opened it"
    raise BillLocked(f"the PDF {part.filename or ''} is password protected and {tried}")
