"""An ASGI guard that runs before any request body is read: upload size limits and authentication first.

FastAPI parses a multipart body (spooling every file) before the route's dependencies run, so an
anonymous client could make the server read and spool gigabytes. This guard answers first, from the
headers alone: a POST must declare its Content-Length (411 otherwise) within its path's limit (413);
uploads (bill PDFs, the CSV import) must carry a valid session cookie or API token (401) before one
byte is read. h11 then refuses a body longer than its declared length, so the limit is hard.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie

import anyio.to_thread

from storage.engine import session_scope
from storage.integrators import integrator_of_session, integrator_of_token
from web.context import SESSION_COOKIE

MiB = 1024 * 1024
# (path pattern, body limit, authentication): uploads are authenticated before their body is read.
UPLOADS = ((re.compile(r"^/api/v1/units/\d+/invoices$"), 64 * MiB, "bearer"),
           (re.compile(r"^/unidades/\d+/faturas$"), 64 * MiB, "cookie"),
           (re.compile(r"^/unidades/importar$"), 5 * MiB + 64 * 1024, "cookie"))
OTHER_POST_LIMIT = 1 * MiB


class UploadGuard:
    """Wraps the app; see the module docstring. `engine_of()` gives the database to check credentials in."""

    def __init__(self, app, *, engine_of: Callable[[], object]) -> None:  # noqa: ANN001 - an ASGI app
        self.app, self.engine_of = app, engine_of

    async def __call__(self, scope: dict, receive: Callable[[], Awaitable[dict]],
                       send: Callable[[dict], Awaitable[None]]) -> None:
        """Refuse an oversized or anonymous upload from its headers; pass everything else through."""
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        path = scope["path"]
        rule = next(((limit, auth) for pattern, limit, auth in UPLOADS if pattern.match(path)), None)
        limit, auth = rule or (OTHER_POST_LIMIT, None)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        if length is None and ("transfer-encoding" in headers or rule is not None):
            return await _answer(send, path, 411, "Content-Length is required", "Envie o tamanho do arquivo.")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await _answer(send, path, 413, f"the body is over the limit of {limit // MiB} MiB",
                                 f"O envio passa do limite de {limit // MiB} MiB.")
        if auth is not None and not await anyio.to_thread.run_sync(self._authenticated, auth, headers):
            return await _answer(send, path, 401, "log in (or send an API token) before uploading",
                                 "Entre no sistema antes de enviar arquivos.")
        return await self.app(scope, receive, send)

    def _authenticated(self, auth: str, headers: dict[str, str]) -> bool:
        with session_scope(self.engine_of()) as session:  # type: ignore[arg-type]
            if auth == "bearer":
                scheme, _, token = headers.get("authorization", "").partition(" ")
                return scheme.lower() == "bearer" and bool(token) and \
                    integrator_of_token(session=session, token=token.strip()) is not None
            cookie = SimpleCookie()
            try:
                cookie.load(headers.get("cookie", ""))
            except Exception:  # noqa: BLE001 - a malformed Cookie header is no session
                return False
            morsel = cookie.get(SESSION_COOKIE)
            return morsel is not None and integrator_of_session(session=session, token=morsel.value) is not None


async def _answer(send: Callable[[dict], Awaitable[None]], path: str, status: int, detail: str,
                  message: str) -> None:
    if path.startswith("/api/"):
        body, kind = json.dumps({"detail": message, "reason": detail}).encode(), b"application/json"
    else:
        body, kind = (f"<!doctype html><html lang=\"pt-BR\"><meta charset=\"utf-8\"><title>Faturas</title>"
                      f"<p>{message}</p></html>").encode(), b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
