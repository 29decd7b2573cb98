"""Portal logins as an integrator sees them: only their own, with units and bills waiting for an installation."""

from __future__ import annotations

from sqlmodel import Session

from config.context import AppContext
from storage.credentials import ErasedCredentials, erase_login_credentials, erasure_date
from storage.login_models import PortalLogin
from storage.logins import LoginPublic, get_login, list_logins, login_public, unit_input_from_message
from storage.models import Unit
from storage.units import register_waiting_installation
from storage.web_models import Integrator


def own_logins(*, session: Session, integrator: Integrator) -> list[LoginPublic]:
    """The integrator's logins with their units and waiting bills."""
    return [login_public(session=session, login=row)
            for row in list_logins(session=session, integrator_id=integrator.id)]


def own_login(*, session: Session, integrator: Integrator, login_id: int) -> PortalLogin:
    """One of the integrator's logins; not found for anybody else's."""
    return get_login(session=session, login_id=login_id, integrator_id=integrator.id)


def registration_prefill(*, session: Session, integrator: Integrator, message_id: int) -> dict:
    """The "Cadastrar esta instalação" form, pre-filled from the waiting bill (the integrator's own only)."""
    return unit_input_from_message(session=session, message_id=message_id, integrator_id=integrator.id)


def register_installation(*, session: Session, app: AppContext, integrator: Integrator, message_id: int,
                          overrides: dict) -> Unit:
    """Register the waiting bill's installation under its login; the next mail pass processes the bill once."""
    return register_waiting_installation(session=session, message_id=message_id, overrides=overrides,
                                         keys=app.keys_if_any(), inbox=app.inbox_policy,
                                         integrator_id=integrator.id)


def erase_credentials(*, app: AppContext, integrator: Integrator, login_id: int) -> ErasedCredentials:
    """Erase one of the integrator's logins' password and saved sessions now (another's is not found)."""
    return erase_login_credentials(engine=app.engine, login_id=login_id, reason="on_request",
                                   integrator_id=integrator.id)


def scheduled_erasure(*, session: Session, app: AppContext, login: PortalLogin):  # noqa: ANN201 - datetime | None
    """When the service will erase the login's credentials by itself (None: not all units enrolled yet)."""
    return erasure_date(session=session, login=login, after_days=app.settings.logins_erase_credentials_after_days)
