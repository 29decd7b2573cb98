"""Rendering pages: every template gets the CSRF token, the user and the pt-BR labels."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from web import labels
from web.security import csrf_token


def page(request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200,
         anchor: str | None = None) -> HTMLResponse:
    """A rendered template; `anchor` overrides the CSRF anchor (the pre-login cookie)."""
    web = request.app.state.web
    anchor = anchor or getattr(request.state, "session_token", None) or ""
    values = {"csrf": csrf_token(web.secret, anchor) if anchor else "", "labels": labels,
              "flash": request.query_params.get("msg"), "sandbox": web.sandbox, "path": request.url.path}
    values.update(context or {})
    return web.templates.TemplateResponse(request, name, values, status_code=status_code)


def set_cookie(response: Response, request: Request, name: str, value: str, *, max_age: int | None) -> None:
    """An HttpOnly, SameSite=Lax cookie (Secure when configured)."""
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", path="/",
                        secure=request.app.state.web.app.settings.web_secure_cookies)
