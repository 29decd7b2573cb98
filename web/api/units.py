"""API: units CRUD, adhesion trigger and status (only the token owner's units)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from storage.models import UnitPublic
from storage.units import remove_unit
from web.api.schemas import AdhesionOut, ErrorOut, UnitIn, UnitPatch
from web.deps import ApiUserDep, SessionDep, WebDep
from web.services.adhesion import adhesion_view
from web.services.units import add_unit, change_unit, own_unit, search_units

ERRORS = {400: {"model": ErrorOut}, 401: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}}
router = APIRouter(tags=["units"], responses=ERRORS)
UnitId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Text = Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$")]


@router.get("/units", response_model=list[UnitPublic])
def list_(session: SessionDep, user: ApiUserDep, q: Text = None, status: Text = None, next_actor: Text = None,
          limit: Annotated[int, Query(ge=1, le=500)] = 100,
          offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[UnitPublic]:
    """The integrator's units; filter by search text, adhesion `status` and `next_actor`."""
    units = search_units(session=session, integrator=user, search=q, status=status, actor=next_actor, limit=limit,
                         offset=offset)
    return [UnitPublic.from_unit(u) for u in units]


@router.post("/units", response_model=UnitPublic, status_code=201)
def create(session: SessionDep, web: WebDep, user: ApiUserDep, unit_in: UnitIn) -> UnitPublic:
    """Register a unit owned by the token's integrator."""
    return UnitPublic.from_unit(add_unit(session=session, app=web.app, integrator=user, unit_in=unit_in))


@router.get("/units/{unit_id}", response_model=UnitPublic)
def read(session: SessionDep, user: ApiUserDep, unit_id: UnitId) -> UnitPublic:
    """One unit (secrets only as `has_…` flags)."""
    return UnitPublic.from_unit(own_unit(session=session, integrator=user, unit_id=unit_id))


@router.patch("/units/{unit_id}", response_model=UnitPublic)
def update(session: SessionDep, web: WebDep, user: ApiUserDep, unit_id: UnitId, unit_in: UnitPatch) -> UnitPublic:
    """Change a unit's fields."""
    unit = own_unit(session=session, integrator=user, unit_id=unit_id)
    return UnitPublic.from_unit(change_unit(session=session, app=web.app, unit=unit, unit_in=unit_in))


@router.delete("/units/{unit_id}", status_code=204, response_class=Response)
def delete(session: SessionDep, user: ApiUserDep, unit_id: UnitId) -> Response:
    """Remove a unit (its inbox address is never handed out again)."""
    remove_unit(session=session, unit=own_unit(session=session, integrator=user, unit_id=unit_id))
    return Response(status_code=204)


def _adhesion(session, web, unit) -> AdhesionOut:  # noqa: ANN001 - local helper
    view = adhesion_view(session=session, unit=unit, runner=web.runner)
    return AdhesionOut(unit_id=unit.id, status=view.status, next_actor=view.next_actor, message=view.message,
                       step=view.step, running=view.running, final=view.final)


@router.post("/units/{unit_id}/adhesion", response_model=AdhesionOut, status_code=202)
def trigger_adhesion(session: SessionDep, web: WebDep, user: ApiUserDep, unit_id: UnitId) -> AdhesionOut:
    """Queue the unit's automatic adhesion to Conta Digital; poll `GET /units/{id}/status`."""
    unit = own_unit(session=session, integrator=user, unit_id=unit_id)
    web.runner.queue(session=session, unit=unit)
    return _adhesion(session, web, unit)


@router.get("/units/{unit_id}/status", response_model=AdhesionOut)
def status(session: SessionDep, web: WebDep, user: ApiUserDep, unit_id: UnitId) -> AdhesionOut:
    """The unit's adhesion state and who must act next."""
    return _adhesion(session, web, own_unit(session=session, integrator=user, unit_id=unit_id))
