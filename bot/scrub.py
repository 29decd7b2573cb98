"""Removing secrets from recorded artifacts (Playwright traces, HAR files) before they are kept.

Traces hold DOM snapshots with input values and network entries with form bodies, so a password typed
into the login form can appear in several encodings. Every encoding of every secret is replaced.
"""

from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"


def encodings(secret: str) -> set[bytes]:
    """The byte forms a secret can take in a form body, a URL, JSON or HTML."""
    forms = {secret, quote_plus(secret), quote(secret, safe=""), json.dumps(secret)[1:-1],
             secret.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")}
    return {form.encode("utf-8") for form in forms if form}


def scrub_bytes(data: bytes, secrets: list[str]) -> bytes:
    """Replace every encoding of every secret (longest first, so no fragment survives)."""
    for form in sorted({f for s in secrets if s for f in encodings(s)}, key=len, reverse=True):
        data = data.replace(form, REDACTED.encode())
    return data


def scrub_zip(data: bytes, secrets: list[str]) -> bytes:
    """A copy of a zip archive with every member scrubbed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, scrub_bytes(source.read(info.filename), secrets))
    return out.getvalue()
