"""The discovery checklist of a login ("Buscar instalações deste login"), reviewed before registering.

What the portal listed, side by side with what is registered, so the integrator registers the missing ones
in one step.

The search itself runs in the service (`discovery_queue` job), never inside a dashboard request: the page
queues it and shows how the last one ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from config.context import AppContext
from storage.discovery import DiscoveredInstallation, discovery_view, register_discovered, request_discovery
from storage.logins import LoginPublic, login_public
from storage.models import Unit
from storage.web_models import Integrator
from web.services.logins import own_login

SUSPENDED = frozenset({"Suspensa", "Encerrada"})


@dataclass(frozen=True)
class ChecklistRow:
    """One listed installation: registered (with its unit's state) or waiting to be registered."""

    item: DiscoveredInstallation
    unit_status: str | None
    waiting_bills: int

    @property
    def registered(self) -> bool:
        """Already a unit of this login."""
        return self.item.unit_id is not None

    @property
    def suspended(self) -> bool:
        """Suspended or closed at the portal: shown, flagged, not offered ticked (no bills will come)."""
        return self.item.status in SUSPENDED


@dataclass(frozen=True)
class Checklist:
    """A login's last discovery as the page shows it, with the state of the queued search."""

    login: LoginPublic
    discovered_at: datetime | None
    status: str | None
    message: str | None
    rows: list[ChecklistRow]

    @property
    def registered(self) -> list[ChecklistRow]:
        """The listed installations that are units of the login."""
        return [r for r in self.rows if r.registered]

    @property
    def waiting(self) -> list[ChecklistRow]:
        """The listed installations waiting to be registered."""
        return [r for r in self.rows if not r.registered]

    @property
    def customers(self) -> list[str]:
        """The distinct customers (CPF/CNPJ) the portal showed under the login, in listing order."""
        return list(dict.fromkeys(r.item.customer_document for r in self.rows if r.item.customer_document))


def checklist(*, session: Session, integrator: Integrator, login_id: int) -> Checklist:
    """The integrator's login with its last discovery; another integrator's login is not found."""
    row = own_login(session=session, integrator=integrator, login_id=login_id)
    login = login_public(session=session, login=row)
    view = discovery_view(session=session, login_id=login_id, integrator_id=integrator.id)
    states = {u.id: u.adhesion_status for u in login.units}
    rows = []
    for item in view.installations:
        waiting = sum(1 for w in login.waiting
                      if (w.installation and w.installation == item.installation)
                      or (w.uc_code and w.uc_code == item.uc_code))
        rows.append(ChecklistRow(item=item, unit_status=states.get(item.unit_id), waiting_bills=waiting))
    return Checklist(login=login, discovered_at=view.discovered_at, status=row.discovery_status,
                     message=row.discovery_message, rows=rows)


def queue_search(*, session: Session, integrator: Integrator, login_id: int) -> None:
    """Queue "Buscar instalações deste login" for the service's discovery job."""
    request_discovery(session=session, login_id=login_id, integrator_id=integrator.id)


def register_chosen(*, session: Session, app: AppContext, integrator: Integrator, login_id: int,
                    chosen: list[str], forward_to: list[str] | None) -> list[Unit]:
    """Register the ticked installations under the login (they share its inbox)."""
    return register_discovered(session=session, login_id=login_id, chosen=chosen, keys=app.keys_if_any(),
                               inbox=app.inbox_policy, integrator_id=integrator.id, forward_to=forward_to)
