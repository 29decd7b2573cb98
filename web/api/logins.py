"""API: portal logins with their units and states, and registering a waiting bill's installation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from storage.logins import LoginPublic, login_public
from storage.models import UnitPublic
from web.api.schemas import ErrorOut
from web.deps import ApiUserDep, SessionDep, WebDep
from web.services.logins import erase_credentials, own_login, own_logins, register_installation

ERRORS = {code: {"model": ErrorOut} for code in (400, 401, 404, 409, 422)}
router = APIRouter(tags=["logins"], responses=ERRORS)
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]


class RegisterIn(BaseModel):
    """Changes to the pre-filled fields (the bill's installation, holder and the login's CPF/CNPJ)."""

    client_name: str | None = None
    holder_document: str | None = None
    forward_to: list[str] | None = None


@router.get("/logins", response_model=list[LoginPublic])
def list_(session: SessionDep, user: ApiUserDep) -> list[LoginPublic]:
    """The integrator's portal logins, each with its units (and their states) and the bills waiting for a unit."""
    return own_logins(session=session, integrator=user)


@router.get("/logins/{login_id}", response_model=LoginPublic)
def read(session: SessionDep, user: ApiUserDep, login_id: Id) -> LoginPublic:
    """One portal login (the password only as `has_password`)."""
    return login_public(session=session, login=own_login(session=session, integrator=user, login_id=login_id))


class ErasedOut(BaseModel):
    """What was erased: stored passwords (the login's and any unit copy) and saved browser sessions."""

    login_id: int
    passwords: int
    sessions: int


@router.post("/logins/{login_id}/erase-credentials", response_model=ErasedOut)
def erase(web: WebDep, user: ApiUserDep, login_id: Id) -> ErasedOut:
    """Erase the login's portal password and saved sessions now; re-enrolment then asks for the password."""
    erased = erase_credentials(app=web.app, integrator=user, login_id=login_id)
    return ErasedOut(login_id=erased.login_id, passwords=erased.passwords, sessions=erased.sessions)


@router.post("/waiting-bills/{message_id}/unit", response_model=UnitPublic, status_code=201)
def register(session: SessionDep, web: WebDep, user: ApiUserDep, message_id: Id, body: RegisterIn) -> UnitPublic:
    """Register the installation of a bill waiting at a login's inbox; the bill is then processed once."""
    unit = register_installation(session=session, app=web.app, integrator=user, message_id=message_id,
                                 overrides=body.model_dump())
    return UnitPublic.from_unit(unit)
