"""Erasing a portal login's credentials (LGPD data minimisation), on request or once they are no longer needed.

Once every unit of a login is enrolled, CEMIG e-mails the bills without anyone logging in again, so the
password and the saved browser session it opened are only a liability. `erase_login_credentials` removes
them: the login's encrypted password, any copy left on its units, and the login's saved browser sessions.
After the transaction commits the freed bytes are compacted away (SQLite: checkpoint + VACUUM; PostgreSQL:
VACUUM FULL of the tables that held them), so no old row version keeps the encrypted secret on disk.

`credentials_due_for_erasure` is the schedule: logins still holding credentials whose units have all been
enrolled for at least `after_days` days. The bot then finds no password and ends in `password_required`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Engine, func, text
from sqlmodel import Session, col, select

from storage.holders import compact_sqlite
from storage.login_models import PortalLogin
from storage.logins import get_login, login_units
from storage.models import AdhesionAttempt, AdhesionStatus, BrowserSession, utcnow

log = structlog.get_logger(__name__)
ENROLLED_STATES = frozenset({AdhesionStatus.ENROLLED.value, AdhesionStatus.VERIFIED.value})
_TABLES = ("portal_login", "unit", "browser_session")


@dataclass(frozen=True)
class ErasedCredentials:
    """What one erasure removed: passwords (the login's and units' copies) and saved browser sessions."""

    login_id: int
    passwords: int
    sessions: int


def enrolled_since(*, session: Session, login: PortalLogin) -> datetime | None:
    """When the last of the login's units was enrolled; None while a unit is not enrolled (or it has none).

    The moment is the unit's last attempt that ended enrolled; a unit enrolled without one (by hand) counts
    from its last update.
    """
    units = login_units(session=session, login_id=login.id or 0)
    if not units or any(u.adhesion_status not in ENROLLED_STATES for u in units):
        return None
    moments = []
    for unit in units:
        finished = session.exec(select(func.max(AdhesionAttempt.finished_at)).where(
            AdhesionAttempt.unit_id == unit.id, AdhesionAttempt.outcome == AdhesionStatus.ENROLLED.value)).one()
        moments.append(finished or unit.updated_at)
    return max(moments)


def holds_credentials(*, session: Session, login: PortalLogin) -> bool:
    """Whether anything secret of the login is still stored (its password, a unit's copy, a saved session)."""
    if login.password_enc or any(u.portal_password_enc for u in login_units(session=session, login_id=login.id or 0)):
        return True
    return bool(_sessions_of(session, login))


def erasure_date(*, session: Session, login: PortalLogin, after_days: int) -> datetime | None:
    """When the schedule will erase the login's credentials (None: not yet known, or nothing to erase)."""
    since = enrolled_since(session=session, login=login)
    if since is None or not holds_credentials(session=session, login=login):
        return None
    return since + timedelta(days=after_days)


def credentials_due_for_erasure(*, session: Session, after_days: int, now: datetime | None = None) -> list[int]:
    """Ids of the logins whose every unit has been enrolled for `after_days` days and that still hold secrets."""
    now = now or utcnow()
    due = []
    for login in session.exec(select(PortalLogin).order_by(col(PortalLogin.id))).all():
        when = erasure_date(session=session, login=login, after_days=after_days)
        if when is not None and when <= now:
            due.append(login.id or 0)
    return due


def _sessions_of(session: Session, login: PortalLogin) -> list[BrowserSession]:
    query = select(BrowserSession).where(BrowserSession.utility == login.utility,
                                         BrowserSession.portal_login == login.login)
    query = query.where(BrowserSession.integrator_id == login.integrator_id if login.integrator_id is not None
                        else col(BrowserSession.integrator_id).is_(None))
    return list(session.exec(query).all())


def erase_login_credentials(*, engine: Engine, login_id: int, reason: str,
                            integrator_id: int | None = None) -> ErasedCredentials:
    """Erase the login's password (and its units' copies) and saved sessions, then compact the database.

    `reason` ("on_request", "schedule") goes to the log line that is the erasure's audit. UnitNotFound for a
    login that does not exist (or is another integrator's).
    """
    with Session(engine, expire_on_commit=False) as session:
        login = get_login(session=session, login_id=login_id, integrator_id=integrator_id)
        passwords = int(login.password_enc is not None)
        login.password_enc = None
        login.updated_at = utcnow()
        session.add(login)
        for unit in login_units(session=session, login_id=login_id):
            if unit.portal_password_enc is not None:
                unit.portal_password_enc = None
                unit.updated_at = utcnow()
                session.add(unit)
                passwords += 1
        sessions = _sessions_of(session, login)
        for row in sessions:
            session.delete(row)
        session.commit()
    compact(engine)
    log.info("login_credentials_erased", portal_login_id=login_id, reason=reason, passwords=passwords,
             sessions=len(sessions))
    return ErasedCredentials(login_id=login_id, passwords=passwords, sessions=len(sessions))


def compact(engine: Engine) -> None:
    """Rewrite the tables that held credentials so no deleted or superseded row version stays on disk."""
    if engine.dialect.name == "sqlite":
        compact_sqlite(engine)
    elif engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(text(f"VACUUM FULL {', '.join(_TABLES)}"))
