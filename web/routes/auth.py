"""Log in and log out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from storage.integrators import close_session
from web.context import PRELOGIN_COOKIE, SESSION_COOKIE
from web.deps import CsrfDep, SessionDep, UserDep, WebDep
from web.errors import CsrfRejected, InvalidLogin, TooManyLogins
from web.render import page, set_cookie
from web.security import csrf_valid, new_token
from web.services.accounts import log_in

router = APIRouter(include_in_schema=False)


def _login_page(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    anchor = request.cookies.get(PRELOGIN_COOKIE) or new_token()
    response = page(request, "login.html", {"error": error}, status_code=status_code, anchor=anchor)
    set_cookie(response, request, PRELOGIN_COOKIE, anchor, max_age=3600)
    return response


@router.get("/entrar")
def login_form(request: Request) -> Response:
    """The login page."""
    return _login_page(request)


@router.post("/entrar")
def login(request: Request, web: WebDep, email: Annotated[str, Form(max_length=254)],
          password: Annotated[str, Form(max_length=1000)], csrf_token: Annotated[str, Form()] = "") -> Response:
    """Check the CSRF token of the pre-login cookie, then the password; open a session."""
    if not csrf_valid(web.secret, request.cookies.get(PRELOGIN_COOKIE), csrf_token):
        raise CsrfRejected("login form without a valid CSRF token")
    client = request.client.host if request.client else "unknown"
    try:
        token = log_in(engine=web.app.engine, settings=web.app.settings, email=email, password=password,
                       client=client)
    except (InvalidLogin, TooManyLogins) as exc:
        return _login_page(request, error=exc.user_message, status_code=429 if isinstance(exc, TooManyLogins) else 401)
    response = RedirectResponse("/unidades", status_code=303)
    set_cookie(response, request, SESSION_COOKIE, token, max_age=web.app.settings.web_session_max_age_s)
    response.delete_cookie(PRELOGIN_COOKIE, path="/")
    return response


@router.post("/sair", dependencies=[CsrfDep])
def logout(request: Request, session: SessionDep, user: UserDep) -> Response:
    """Close the session on the server and drop the cookie."""
    close_session(session=session, token=request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/entrar", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
