"""Errors of the web layer, and the one place where every domain error becomes an HTTP answer.

    FaturasError (storage.errors)
    ├── LoginRequired        no valid session cookie or bearer token      → 303 to /entrar (pages), 401 (API)
    ├── CsrfRejected         a form without a valid CSRF token            → 403
    ├── TooManyLogins        rate limit of failed logins reached          → 429
    ├── InvalidLogin         wrong e-mail or password                     → 401 (the login page again)
    ├── NotFound             an invoice/attempt that is not the integrator's (or does not exist) → 404
    └── UploadRejected       an upload that is not what the form expects  → 400

Domain errors from storage map by family: UnitNotFound → 404, UnitInputError → 422, DuplicateUnit → 409,
anything else → 400. Another integrator's unit is "not found", never "forbidden": no hint that it exists.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from storage.errors import DuplicateUnit, FaturasError, UnitInputError, UnitNotFound
from storage.integrators import IntegratorNotFound, TokenNotFound


class LoginRequired(FaturasError):
    """The request is not authenticated."""

    user_message = "Entre com seu e-mail e senha."


class CsrfRejected(FaturasError):
    """The form's CSRF token is missing or wrong."""

    user_message = "O formulário expirou. Recarregue a página e tente novamente."


class TooManyLogins(FaturasError):
    """Too many failed logins for this e-mail or address."""

    user_message = "Muitas tentativas de acesso. Aguarde alguns minutos e tente novamente."


class InvalidLogin(FaturasError):
    """Wrong e-mail or password."""

    user_message = "E-mail ou senha incorretos."


class NotFound(FaturasError):
    """A record that does not exist or is not the integrator's."""

    user_message = "Registro não encontrado."


class UploadRejected(FaturasError):
    """An uploaded file cannot be used."""

    user_message = "Arquivo inválido."


def _status_of(error: FaturasError) -> int:
    for family, status in ((LoginRequired, 401), (CsrfRejected, 403), (TooManyLogins, 429), (InvalidLogin, 401),
                           (NotFound, 404), (UnitNotFound, 404), (IntegratorNotFound, 404), (TokenNotFound, 404),
                           (UnitInputError, 422), (DuplicateUnit, 409)):
        if isinstance(error, family):
            return status
    return 400


def _public_message(error: FaturasError) -> str:
    # A duplicate's own message names the other unit's id, which may be another integrator's.
    return type(error).user_message if isinstance(error, DuplicateUnit) else error.user_message


def _allowed_methods(request: Request) -> str:
    """Every method some route serves on this path (Starlette's 405 names only the first route's).

    Each method is tried against the app's routes: included routers match through their own routes.
    """
    allowed = [method for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
               if any(route.matches({**request.scope, "method": method})[0] is Match.FULL
                      for route in request.app.router.routes)]
    return ", ".join(allowed)


def install_error_handlers(app: FastAPI) -> None:
    """Register the one handler for domain errors: JSON under /api, an HTML page elsewhere."""

    def _page(request: Request, message: str, status: int, headers: dict[str, str] | None = None) -> Response:
        templates = request.app.state.web.templates
        return templates.TemplateResponse(request, "error.html", {"message": message, "status": status},
                                          status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            exc.headers = {**(exc.headers or {}), "Allow": _allowed_methods(request)}
        # Pages answer in pt-BR; the API keeps FastAPI's JSON (documented in the OpenAPI document).
        if request.url.path.startswith("/api/") or request.url.path.startswith("/static/"):
            return await http_exception_handler(request, exc)
        message = {404: "Página não encontrada.", 405: "Operação não permitida."}.get(
            exc.status_code, "Não foi possível atender o pedido.")
        return _page(request, message, exc.status_code, exc.headers)  # a 405 keeps its Allow header

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/api/"):
            return await request_validation_exception_handler(request, exc)
        return _page(request, "Dados inválidos no pedido. Confira os campos e tente novamente.", 422)

    @app.exception_handler(FaturasError)
    async def _domain_error(request: Request, exc: FaturasError) -> Response:
        status = _status_of(exc)
        message = _public_message(exc)
        if request.url.path.startswith("/api/"):
            # 422 stays FastAPI's own schema (request validation); a domain input error is a 400 here.
            status = 400 if status == 422 else status
            body: dict = {"detail": message}
            if isinstance(exc, UnitInputError):
                body["field"] = exc.field
                body["reason"] = exc.reason
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return JSONResponse(body, status_code=status, headers=headers)
        if isinstance(exc, LoginRequired):
            return RedirectResponse("/entrar", status_code=303)
        if isinstance(exc, UnitInputError):
            message = f"{message} Campo {exc.field}: {exc.reason}"
        templates = request.app.state.web.templates
        return templates.TemplateResponse(request, "error.html", {"message": message, "status": status},
                                          status_code=status)
