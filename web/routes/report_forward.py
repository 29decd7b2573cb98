"""Page action: whether the unit's forwarded bills carry its monthly report (the integrator's choice)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path
from fastapi.responses import RedirectResponse, Response

from storage.models import utcnow
from web.deps import CsrfDep, SessionDep, UserDep
from web.services.units import own_unit

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.post("/unidades/{unit_id}/relatorio-no-encaminhamento", dependencies=[CsrfDep])
def save_forward_report(session: SessionDep, user: UserDep, unit_id: Id,
                        ativar: Annotated[str, Form(max_length=5)] = "") -> Response:
    """Turn the report attachment of the unit's forwards on (`ativar=1`) or off."""
    unit = own_unit(session=session, integrator=user, unit_id=unit_id)
    unit.forward_report = ativar == "1"
    unit.updated_at = utcnow()
    session.add(unit)
    message = ("O+relat%C3%B3rio+ser%C3%A1+anexado+%C3%A0s+faturas+encaminhadas." if unit.forward_report else
               "As+faturas+ser%C3%A3o+encaminhadas+sem+o+relat%C3%B3rio.")
    return RedirectResponse(f"/unidades/{unit_id}/relatorio?msg={message}", status_code=303)
