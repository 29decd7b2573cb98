"""Units as an integrator sees them: only their own, created as theirs, the "Cadastrar e-mail" settings."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlmodel import Session

from config.context import AppContext
from storage.models import NEXT_ACTOR, AdhesionStatus, Unit, UnitCreate, UnitUpdate
from storage.unit_csv import ImportReport, import_units
from storage.units import create_unit, get_unit, list_units, update_unit
from storage.validators import UnitInputError
from storage.web_models import Integrator


def statuses_for_actor(actor: str) -> list[AdhesionStatus]:
    """The adhesion states whose next actor is `actor`."""
    return [status for status, who in NEXT_ACTOR.items() if who == actor]


def search_units(*, session: Session, integrator: Integrator, search: str | None = None, status: str | None = None,
                 actor: str | None = None, limit: int | None = None, offset: int = 0) -> list[Unit]:
    """The integrator's units, filtered by a search text, an adhesion state and/or who must act."""
    try:
        state = AdhesionStatus(status) if status else None
    except ValueError as exc:
        raise UnitInputError("status", f"unknown adhesion state {status!r}") from exc
    if actor and actor not in set(NEXT_ACTOR.values()):
        raise UnitInputError("actor", f"unknown actor {actor!r}")
    return list_units(session=session, integrator_id=integrator.id, search=search or None, status=state,
                      statuses=statuses_for_actor(actor) if actor else None, limit=limit, offset=offset)


def own_unit(*, session: Session, integrator: Integrator, unit_id: int | str) -> Unit:
    """One of the integrator's units; UnitNotFound for anybody else's (same answer as for a missing one)."""
    return get_unit(session=session, ref=unit_id, integrator_id=integrator.id)


def add_unit(*, session: Session, app: AppContext, integrator: Integrator, unit_in: UnitCreate) -> Unit:
    """Register a unit owned by the integrator."""
    return create_unit(session=session, unit_in=unit_in, keys=app.keys_if_any(), inbox=app.inbox_policy,
                       integrator_id=integrator.id)


def change_unit(*, session: Session, app: AppContext, unit: Unit, unit_in: UnitUpdate) -> Unit:
    """Apply changes to an owned unit (secrets encrypted; blank secrets left as they are by the caller)."""
    return update_unit(session=session, unit=unit, unit_in=unit_in, keys=app.keys_if_any())


def email_settings_update(*, forward_to: str, email_bills_enabled: bool, pdf_password: str,
                          clear_pdf_password: bool, portal_login: str, portal_password: str) -> UnitUpdate:
    """The "Cadastrar e-mail" form as a UnitUpdate: blank write-only fields keep the stored value."""
    changes: dict = {"forward_to": forward_to, "email_bills_enabled": email_bills_enabled}
    if clear_pdf_password:
        changes["pdf_password"] = ""
    elif pdf_password:
        changes["pdf_password"] = pdf_password
    if portal_login.strip():
        changes["portal_login"] = portal_login
    if portal_password:
        changes["portal_password"] = portal_password
    return UnitUpdate(**changes)


def import_csv(*, app: AppContext, integrator: Integrator, data: bytes) -> ImportReport:
    """Bulk import of units from CSV bytes for the integrator, with the per-row report."""
    with tempfile.TemporaryDirectory(prefix="faturas-csv-") as tmp:
        path = Path(tmp) / "units.csv"
        path.write_bytes(data)
        return import_units(engine=app.engine, path=path, keys=app.keys_if_any(), inbox=app.inbox_policy,
                            batch_size=app.settings.csv_batch_size, integrator_id=integrator.id)
