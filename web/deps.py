"""FastAPI dependencies: the database session, the logged-in integrator (cookie or bearer), CSRF checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from storage.engine import session_scope
from storage.integrators import integrator_of_session, integrator_of_token
from storage.web_models import Integrator
from web.context import SESSION_COOKIE, WebContext
from web.errors import CsrfRejected, LoginRequired
from web.security import csrf_valid


def get_web(request: Request) -> WebContext:
    """The web context of the running app."""
    return request.app.state.web


WebDep = Annotated[WebContext, Depends(get_web)]


def get_session(web: WebDep) -> Iterator[Session]:
    """A session committed when the request handler returns without error."""
    with session_scope(web.app.engine) as session:
        yield session


# Function scope: commit before the response is sent, so a redirect never shows stale data.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def current_integrator(request: Request, session: SessionDep) -> Integrator:
    """The integrator logged in with the session cookie; LoginRequired otherwise."""
    token = request.cookies.get(SESSION_COOKIE)
    integrator = integrator_of_session(session=session, token=token) if token else None
    if integrator is None:
        raise LoginRequired("no valid session cookie")
    request.state.session_token = token
    return integrator


UserDep = Annotated[Integrator, Depends(current_integrator)]

_bearer = HTTPBearer(auto_error=False, description="An integrator's API token (`faturas users token create EMAIL`).")


def api_integrator(session: SessionDep,
                   credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Integrator:
    """The integrator owning the bearer token; LoginRequired (401) otherwise."""
    integrator = None
    if credentials is not None and credentials.scheme.lower() == "bearer":
        integrator = integrator_of_token(session=session, token=credentials.credentials)
        # Commit `last_used_at` now: on SQLite an open write would block the request's own later work
        # (an upload stores bills in sessions of its own).
        session.commit()
    if integrator is None:
        raise LoginRequired("missing or invalid bearer token")
    return integrator


ApiUserDep = Annotated[Integrator, Depends(api_integrator)]


async def check_csrf(request: Request, web: WebDep) -> None:
    """Reject a form whose `csrf_token` field does not match the session (or pre-login) cookie."""
    form = await request.form()
    anchor = getattr(request.state, "session_token", None) or request.cookies.get(SESSION_COOKIE)
    token = form.get("csrf_token")
    if not csrf_valid(web.secret, anchor, token if isinstance(token, str) else None):
        raise CsrfRejected("missing or invalid CSRF token")


CsrfDep = Depends(check_csrf)
