"""Pages: "Logins", one login, its discovery checklist, erasing its password, "Cadastrar esta instalação"."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote_plus

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from storage.logins import login_public
from web.deps import CsrfDep, SessionDep, UserDep, WebDep
from web.render import page
from web.services.discovery import checklist, queue_search, register_chosen
from web.services.logins import (
    erase_credentials,
    own_login,
    own_logins,
    register_installation,
    registration_prefill,
    scheduled_erasure,
)

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get("/logins")
def logins_page(request: Request, session: SessionDep, user: UserDep) -> Response:
    """The integrator's portal logins: shared inbox, units and bills waiting for an installation."""
    return page(request, "portal_logins.html", {"user": user, "logins": own_logins(session=session, integrator=user)})


@router.get("/logins/{login_id}")
def login_page(request: Request, session: SessionDep, web: WebDep, user: UserDep, login_id: Id) -> Response:
    """One portal login with its units and waiting bills."""
    row = own_login(session=session, integrator=user, login_id=login_id)
    return page(request, "portal_login.html", {
        "user": user, "login": login_public(session=session, login=row),
        "erase_on": scheduled_erasure(session=session, app=web.app, login=row),
        "erase_after_days": web.app.settings.logins_erase_credentials_after_days})


@router.get("/logins/{login_id}/instalacoes")
def discovery_page(request: Request, session: SessionDep, user: UserDep, login_id: Id) -> Response:
    """The checklist: installations the portal listed, which are registered, which wait; suspended flagged."""
    return page(request, "login_discovery.html",
                {"user": user, "checklist": checklist(session=session, integrator=user, login_id=login_id)})


@router.post("/logins/{login_id}/buscar", dependencies=[CsrfDep])
def search(session: SessionDep, user: UserDep, login_id: Id) -> Response:
    """"Buscar instalações deste login": queued for the service, which logs in and lists them."""
    queue_search(session=session, integrator=user, login_id=login_id)
    message = "Busca+agendada.+Atualize+esta+p%C3%A1gina+em+alguns+minutos."
    return RedirectResponse(f"/logins/{login_id}/instalacoes?msg={message}", status_code=303)


@router.post("/logins/{login_id}/instalacoes", dependencies=[CsrfDep])
def register_listed(session: SessionDep, web: WebDep, user: UserDep, login_id: Id,
                    installation: Annotated[list[str] | None, Form()] = None,
                    forward_to: Annotated[str, Form()] = "") -> Response:
    """Register the ticked installations in one step; they join the login and share its inbox."""
    addresses = [a for a in re.split(r"[,;\s]+", forward_to) if a] or None
    units = register_chosen(session=session, app=web.app, integrator=user, login_id=login_id,
                            chosen=installation or [], forward_to=addresses)
    message = quote_plus(f"{len(units)} instalação(ões) cadastrada(s) neste login." if units
                         else "Nenhuma instalação marcada.")
    return RedirectResponse(f"/logins/{login_id}/instalacoes?msg={message}", status_code=303)


@router.post("/logins/{login_id}/apagar-senha", dependencies=[CsrfDep])
def erase(web: WebDep, user: UserDep, login_id: Id) -> Response:
    """Erase the login's portal password and saved sessions now (no database session held: it compacts)."""
    erase_credentials(app=web.app, integrator=user, login_id=login_id)
    message = ("Senha+e+sess%C3%B5es+do+portal+apagadas.+As+faturas+continuam+chegando%3B+para+aderir+de+novo"
               "+ser%C3%A1+preciso+informar+a+senha.")
    return RedirectResponse(f"/logins/{login_id}?msg={message}", status_code=303)


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
