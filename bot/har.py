"""`faturas record`: record a unit's adhesion as a HAR fixture for QA, with secrets scrubbed.

The recording is a real adhesion run (it changes the portal). Before anything is written, the HAR is
scrubbed: cookie and authorization headers, password and token form fields, the portal login and every
value found in those fields are replaced by placeholders wherever they appear (request bodies, HTML).
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from bot.adhesion import AdhesionOptions, UnitOutcome, adhere_units
from bot.har_bodies import ResponseBodies
from bot.scrub import scrub_bytes
from bot.workdir import browser_root
from config.context import AppContext
from flows.base import ScreenHook
from storage.engine import session_scope
from storage.units import get_unit, portal_password
from storage.validators import format_document

PLACEHOLDER = "REDACTED"
_SECRET_FIELD = re.compile(r"pass|senha|token|recaptcha|secret|acesso|userid|login", re.I)
_SECRET_HEADER = {"cookie", "set-cookie", "authorization", "proxy-authorization"}


def _scrub_set_cookie(value: str) -> str:
    name, _, rest = value.partition("=")
    attributes = rest.partition(";")[2]
    return f"{name}={PLACEHOLDER}" + (f";{attributes}" if attributes else "")


def _scrub_form(text: str, found: list[str]) -> str:
    pairs = parse_qsl(text, keep_blank_values=True)
    cleaned = []
    for name, value in pairs:
        if _SECRET_FIELD.search(name) and value:
            found.append(value)
            value = PLACEHOLDER
        cleaned.append((name, value))
    return urlencode(cleaned)


def scrub_har(har: dict, secrets: list[str]) -> bytes:
    """The HAR as JSON bytes with headers, cookies, secret form fields and every secret value replaced."""
    found = list(secrets)
    for entry in har["log"]["entries"]:
        for part in (entry["request"], entry["response"]):
            for header in part.get("headers", []):
                lowered = header["name"].lower()
                if lowered == "set-cookie":
                    header["value"] = _scrub_set_cookie(header["value"])
                elif lowered in _SECRET_HEADER:
                    header["value"] = PLACEHOLDER
            for cookie in part.get("cookies", []):
                cookie["value"] = PLACEHOLDER
        post = entry["request"].get("postData")
        if post:
            for param in post.get("params", []) or []:
                if _SECRET_FIELD.search(param.get("name", "")) and param.get("value"):
                    found.append(param["value"])
                    param["value"] = PLACEHOLDER
            if post.get("text") and "urlencoded" in post.get("mimeType", ""):
                post["text"] = _scrub_form(post["text"], found)
    data = json.dumps(har, ensure_ascii=False, indent=1).encode("utf-8")
    return scrub_bytes(data, [s for s in found if len(s) >= 4])


def unit_secrets(app: AppContext, unit_ref: str) -> tuple[int, list[str]]:
    """The unit's id and what must never leave a recording: its portal password and login (both spellings)."""
    with session_scope(app.engine) as session:
        unit = get_unit(session=session, ref=unit_ref)
        login = unit.portal_login or ""
        password = portal_password(session=session, unit=unit, keys=app.keys())
        return unit.id or 0, [s for s in (password, login, format_document(login)) if s]


def record_unit(app: AppContext, unit_ref: str, out: Path, *, headed: bool = False,
                on_screen: ScreenHook | None = None) -> UnitOutcome:
    """Run the unit's adhesion with HAR recording and write the scrubbed fixture to `out` (.har.zip).

    `headed` shows the browser (an operator may solve a captcha); `on_screen` is told of each screen.
    """
    unit_id, secrets = unit_secrets(app, unit_ref)
    # The raw recording holds the login request until it is scrubbed: keep it in the private browser folder.
    with tempfile.TemporaryDirectory(prefix="har-", dir=browser_root(app.settings.data_dir)) as tmp:
        raw = Path(tmp) / "recording.har"
        bodies = ResponseBodies()
        options = AdhesionOptions(concurrency=1, attempts=1, backoff_s=app.settings.adhesion_backoff_s,
                                  record_har=raw, har_bodies=bodies, headed=headed, on_screen=on_screen)
        (outcome,) = asyncio.run(adhere_units(app, [unit_id], options))
        har = json.loads(raw.read_text(encoding="utf-8"))
        bodies.fill(har)
        clean = scrub_har(har, secrets)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("recording.har", clean)
    return outcome
