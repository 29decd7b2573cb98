"""Where typed values arrive: every submitted form or JSON field, recorded as (path, field, digest).

A test gives a customer a password and then checks that its digest arrived only in the fields meant
for it (the login form, the access-data form's current-password field), never anywhere else. Only a
SHA-256 digest of each value is kept: the simulator's event log never holds a plain password.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 64 * 1024


def digest(value: str) -> str:
    """The digest the log keeps for a submitted value."""
    return hashlib.sha256(value.encode()).hexdigest()


def submitted_fields(content_type: str, body: bytes) -> list[tuple[str, str]]:
    """(field, value) pairs of a urlencoded or flat JSON body; nothing for other bodies."""
    if "application/x-www-form-urlencoded" in content_type:
        return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=False)
    if "application/json" in content_type:
        try:
            data: Any = json.loads(body or b"null")
        except ValueError:
            return []
        if isinstance(data, dict):
            return [(str(k), v) for k, v in data.items() if isinstance(v, str) and v]
    return []


class FieldRecorder:
    """ASGI middleware: log one `fields_submitted` event per POST/PUT with a urlencoded or JSON body."""

    def __init__(self, app: ASGIApp, *, log: Any) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the body once, log its fields, and replay it to the app."""
        if (scope["type"] != "http" or scope["method"] not in {"POST", "PUT", "PATCH"}
                or scope["path"].startswith("/_admin/")):  # the test's own set-up, not what a browser typed
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if not message.get("more_body") or len(body) > MAX_BODY:
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        fields = submitted_fields(headers.get("content-type", ""), body)
        if fields:
            self.log("fields_submitted", path=scope["path"], fields=[[name, digest(value)] for name, value in fields])
        replay = iter(messages)

        async def replayed() -> Message:
            try:
                return next(replay)
            except StopIteration:
                return await receive()

        await self.app(scope, replayed, send)
