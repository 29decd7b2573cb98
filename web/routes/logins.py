"""Pages: "Logins" (a portal login with its units) and "Cadastrar esta instalação" for a waiting bill."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from storage.logins import login_public
from web.deps import CsrfDep, SessionDep, UserDep, WebDep
from web.render import page
from web.services.logins import own_login, own_logins, register_installation, registration_prefill

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get("/logins")
def logins_page(request: Request, session: SessionDep, user: UserDep) -> Response:
    """The integrator's portal logins: shared inbox, units and bills waiting for an installation."""
    return page(request, "portal_logins.html", {"user": user, "logins": own_logins(session=session, integrator=user)})


@router.get("/logins/{login_id}")
def login_page(request: Request, session: SessionDep, user: UserDep, login_id: Id) -> Response:
    """One portal login with its units and waiting bills."""
    login = login_public(session=session, login=own_login(session=session, integrator=user, login_id=login_id))
    return page(request, "portal_login.html", {"user": user, "login": login})


@router.get("/faturas-aguardando/{message_id}/cadastrar")
def register_form(request: Request, session: SessionDep, user: UserDep, message_id: Id) -> Response:
    """"Cadastrar esta instalação", pre-filled from the waiting bill; the person reviews before confirming."""
    prefill = registration_prefill(session=session, integrator=user, message_id=message_id)
    return page(request, "register_installation.html", {"user": user, "prefill": prefill, "message_id": message_id})


@router.post("/faturas-aguardando/{message_id}/cadastrar", dependencies=[CsrfDep])
def register(request: Request, session: SessionDep, web: WebDep, user: UserDep, message_id: Id,
             client_name: Annotated[str, Form()] = "", holder_document: Annotated[str, Form()] = "",
             forward_to: Annotated[str, Form()] = "") -> Response:
    """Register the installation; the waiting bill is processed once by the next mail pass."""
    overrides = {"client_name": client_name or None, "holder_document": holder_document or None,
                 "forward_to": forward_to if forward_to.strip() else None}
    unit = register_installation(session=session, app=web.app, integrator=user, message_id=message_id,
                                 overrides=overrides)
    message = "Instala%C3%A7%C3%A3o+cadastrada.+A+fatura+aguardando+ser%C3%A1+processada+e+encaminhada."
    return RedirectResponse(f"/unidades/{unit.id}?msg={message}", status_code=303)
