"""A login's discovered installations: stored with the login, compared with its units, registered on request.

The bot reads the portal's list (flows.cemig.discovery) and `record_discovery` keeps it in
`portal_login.discovery_json`. `discovery_view` tells which are already units of the login and which are
offered for registration: active ones pre-selected, suspended or closed ones shown but not pre-selected.
`register_discovered` creates the chosen ones as units of the login, sharing its inbox.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import structlog
from sqlalchemy import update
from sqlmodel import Session, SQLModel, col, select

from storage.errors import UnitInputError
from storage.login_models import PortalLogin
from storage.logins import get_login, login_units
from storage.models import Unit, UnitCreate, utcnow
from storage.secrets import KeyRing
from storage.units import InboxPolicy, create_unit

log = structlog.get_logger(__name__)
ACTIVE = "Ativa"


class DiscoveredInstallation(SQLModel):
    """One installation the portal listed for a login, and what we have of it."""

    installation: str
    uc_code: str | None = None
    address: str | None = None
    status: str | None = None
    customer_document: str | None = None
    customer_name: str | None = None
    unit_id: int | None = None
    """The unit already registered for it (under this login), if any."""
    preselected: bool = False
    """Offered ticked: not registered yet and active (or showing no status)."""


class DiscoveryView(SQLModel):
    """The last discovery of a login, or none yet."""

    login_id: int
    discovered_at: datetime | None
    installations: list[DiscoveredInstallation]

    @property
    def missing(self) -> list[DiscoveredInstallation]:
        """The listed installations with no unit yet."""
        return [i for i in self.installations if i.unit_id is None]


QUEUED, RUNNING = "queued", "running"


def request_discovery(*, session: Session, login_id: int, integrator_id: int | None = None) -> PortalLogin:
    """Queue a discovery of the login for the service ("Buscar instalações deste login")."""
    login = get_login(session=session, login_id=login_id, integrator_id=integrator_id)
    login.discovery_requested_at, login.discovery_status = utcnow(), QUEUED
    login.discovery_message = "Busca agendada: o robô vai entrar no portal e listar as instalações deste login."
    session.add(login)
    session.flush()
    log.info("login_discovery_requested", portal_login_id=login_id)
    return login


def claim_discovery(*, session: Session) -> int | None:
    """Take the oldest queued discovery (a conditional UPDATE: two workers never take the same one)."""
    for login_id in session.exec(select(PortalLogin.id).where(col(PortalLogin.discovery_requested_at).is_not(None))
                                 .order_by(col(PortalLogin.discovery_requested_at))).all():
        taken = session.execute(update(PortalLogin).where(
            PortalLogin.id == login_id, col(PortalLogin.discovery_requested_at).is_not(None))  # type: ignore[arg-type]
            .values(discovery_requested_at=None, discovery_status=RUNNING).execution_options(
                synchronize_session=False))
        if taken.rowcount:  # type: ignore[attr-defined]
            return login_id
    return None


def finish_discovery(*, session: Session, login_id: int, status: str, message: str) -> None:
    """Record how a discovery ended, with its pt-BR message, for the dashboard."""
    login = get_login(session=session, login_id=login_id)
    login.discovery_status, login.discovery_message, login.updated_at = status, message[:500], utcnow()
    session.add(login)


def record_discovery(*, session: Session, login_id: int, listed: list[dict]) -> PortalLogin:
    """Keep what the portal listed (replacing the previous discovery)."""
    login = get_login(session=session, login_id=login_id)
    login.discovery_json = json.dumps(listed, ensure_ascii=False)
    login.discovered_at = utcnow()
    login.updated_at = utcnow()
    session.add(login)
    session.flush()
    log.info("login_discovery_recorded", portal_login_id=login_id, count=len(listed))
    return login


def discovery_view(*, session: Session, login_id: int, integrator_id: int | None = None) -> DiscoveryView:
    """The last discovery with each installation matched to the login's units (by number or UC code)."""
    login = get_login(session=session, login_id=login_id, integrator_id=integrator_id)
    units = login_units(session=session, login_id=login_id)
    rows = []
    for item in json.loads(login.discovery_json or "[]"):
        unit = _unit_of(units, item.get("installation"), item.get("uc_code"))
        status = item.get("status")
        rows.append(DiscoveredInstallation(**item, unit_id=unit.id if unit else None,
                                           preselected=unit is None and status in (None, ACTIVE)))
    return DiscoveryView(login_id=login_id, discovered_at=login.discovered_at, installations=rows)


def register_discovered(*, session: Session, login_id: int, chosen: list[str], keys: KeyRing | None,
                        inbox: InboxPolicy, integrator_id: int | None = None,
                        client_name: str | None = None, forward_to: list[str] | None = None) -> list[Unit]:
    """Create a unit under the login for each chosen installation of the last discovery (number or UC code).

    Holder document: the customer the portal showed for it, else the one most of the login's units have;
    client name and forward addresses likewise. A choice not in the discovery, or already a unit, is refused.
    """
    login = get_login(session=session, login_id=login_id, integrator_id=integrator_id)
    view = discovery_view(session=session, login_id=login_id, integrator_id=integrator_id)
    by_code: dict[str, DiscoveredInstallation] = {}
    for item in view.installations:
        by_code[item.installation] = item
        if item.uc_code:
            by_code[item.uc_code] = item
    units = login_units(session=session, login_id=login_id)
    documents = Counter(u.holder_document for u in units)
    names = Counter(u.client_name for u in units)
    forwards = Counter(tuple(u.forward_to) for u in units)
    created = []
    for code in dict.fromkeys(c.strip() for c in chosen if c.strip()):
        found = by_code.get("".join(ch for ch in code if ch.isdigit()))
        if found is None:
            raise _refused("installation", f"A instalação {code} não está na última busca deste login: "
                                           "busque as instalações de novo.")
        item = found
        if item.unit_id is not None:
            raise _refused("installation", f"A instalação {item.installation} já está cadastrada "
                                           f"(unidade {item.unit_id}).")
        document = item.customer_document or (documents.most_common(1)[0][0] if documents else None)
        if not document and login.login.isdigit():
            document = login.login
        if not document:
            raise _refused("holder_document", f"O portal não mostrou o CPF/CNPJ da instalação {item.installation}: "
                                              "cadastre-a informando o documento.")
        name = client_name or item.customer_name or (names.most_common(1)[0][0] if names else None) or document
        unit_in = UnitCreate(installation=item.installation, uc_code=item.uc_code, client_name=name,
                             holder_document=document, portal_login=login.login,
                             forward_to=forward_to if forward_to is not None else
                             (list(forwards.most_common(1)[0][0]) if forwards else []))
        created.append(create_unit(session=session, unit_in=unit_in, keys=keys, inbox=inbox,
                                   utility=login.utility, integrator_id=login.integrator_id))
    log.info("discovered_installations_registered", portal_login_id=login_id, count=len(created))
    return created


def _refused(field: str, message: str) -> UnitInputError:
    return UnitInputError(field, message, user_message=message)


def _unit_of(units: list[Unit], installation: str | None, uc_code: str | None) -> Unit | None:
    for unit in units:
        if (installation and unit.installation == installation) or (uc_code and unit.uc_code == uc_code):
            return unit
    return None
