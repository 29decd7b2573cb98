"""Integrators, their browser sessions, API tokens and failed logins: keyword-only functions over a session.

Tokens (session cookies, API bearer tokens) are stored only as their sha256: a database dump does not let
anyone log in. Passwords arrive already hashed (argon2, see `web.security`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, or_
from sqlmodel import Session, col, delete, select

from storage.errors import FaturasError
from storage.models import Unit, utcnow
from storage.units import get_unit
from storage.web_models import ApiToken, Integrator, LoginAttempt, WebSession

log = structlog.get_logger(__name__)


class IntegratorNotFound(FaturasError):
    """No integrator with that e-mail or id."""

    user_message = "Usuário não encontrado."


class DuplicateIntegrator(FaturasError):
    """An integrator with that e-mail already exists."""

    user_message = "Já existe um usuário com este e-mail."


class TokenNotFound(FaturasError):
    """No API token with that id or prefix (for this integrator)."""

    user_message = "Token não encontrado."


def sha256(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns; they were written in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def create_integrator(*, session: Session, email: str, password_hash: str, name: str | None = None) -> Integrator:
    """A new integrator; DuplicateIntegrator when the e-mail is taken."""
    email = email.strip().lower()
    if session.exec(select(Integrator).where(Integrator.email == email)).first() is not None:
        raise DuplicateIntegrator(f"an integrator with e-mail {email} already exists")
    integrator = Integrator(email=email, name=name, password_hash=password_hash)
    session.add(integrator)
    session.flush()
    log.info("integrator_created", integrator_id=integrator.id)
    return integrator


def get_integrator(*, session: Session, email: str | None = None, integrator_id: int | None = None) -> Integrator:
    """An integrator by e-mail or id; IntegratorNotFound otherwise."""
    found: Integrator | None = None
    if integrator_id is not None:
        found = session.get(Integrator, integrator_id)
    elif email:
        found = session.exec(select(Integrator).where(Integrator.email == email.strip().lower())).first()
    if found is None:
        raise IntegratorNotFound(f"no integrator {email or integrator_id!r}")
    return found


def list_integrators(*, session: Session) -> list[Integrator]:
    """Every integrator, by id."""
    return list(session.exec(select(Integrator).order_by(col(Integrator.id))).all())


def assign_units(*, session: Session, integrator: Integrator, refs: list[str]) -> list[Unit]:
    """Give existing units (by id, installation or UC code) to an integrator; UnitNotFound for an unknown one."""
    units = [get_unit(session=session, ref=ref) for ref in refs]
    for unit in units:
        unit.integrator_id = integrator.id
        session.add(unit)
    session.flush()
    log.info("units_assigned", integrator_id=integrator.id, unit_ids=[u.id for u in units])
    return units


# --- browser sessions ---

def open_session(*, session: Session, integrator: Integrator, token: str, max_age_s: int) -> WebSession:
    """Record a logged-in browser whose cookie holds `token`."""
    row = WebSession(token_sha256=sha256(token), integrator_id=integrator.id or 0,
                     expires_at=utcnow() + timedelta(seconds=max_age_s))
    session.add(row)
    session.flush()
    return row


def integrator_of_session(*, session: Session, token: str) -> Integrator | None:
    """The active integrator logged in with this cookie token, or None (unknown, expired or inactive)."""
    row = session.exec(select(WebSession).where(WebSession.token_sha256 == sha256(token))).first()
    if row is None or _aware(row.expires_at) <= utcnow():
        return None
    integrator = session.get(Integrator, row.integrator_id)
    return integrator if integrator is not None and integrator.active else None


def close_session(*, session: Session, token: str) -> None:
    """Log a browser out (the cookie stops working even if someone kept a copy)."""
    session.exec(delete(WebSession).where(col(WebSession.token_sha256) == sha256(token)))  # type: ignore[call-overload]


# --- failed logins (rate limit) ---

@dataclass(frozen=True)
class LoginCounts:
    """Login attempts in the window (each counted before its password is checked), by what they share."""

    pair: int      # this client address and this e-mail
    email: int     # this e-mail, from any address
    client: int    # this client address, for any e-mail


def reserve_login_attempt(*, session: Session, email: str, client: str) -> int:
    """Record an attempt before its password is checked; the caller commits before counting.

    Counting only after one's own row is committed makes the limit atomic: of N concurrent attempts,
    the k-th to commit sees at least k, so no more than the limit ever reach the password check.
    """
    row = LoginAttempt(email=email.strip().lower()[:254], client=client[:64])
    session.add(row)
    session.flush()
    return row.id or 0


def login_counts(*, session: Session, email: str, client: str, window_s: int) -> LoginCounts:
    """Attempts in the window for (client, e-mail), for the e-mail and for the client address."""
    since = utcnow() - timedelta(seconds=window_s)
    email = email.strip().lower()

    def count(*conditions) -> int:  # noqa: ANN002
        query = select(func.count()).select_from(LoginAttempt).where(col(LoginAttempt.at) > since, *conditions)
        return int(session.exec(query).one())

    return LoginCounts(pair=count(LoginAttempt.email == email, LoginAttempt.client == client[:64]),
                       email=count(LoginAttempt.email == email), client=count(LoginAttempt.client == client[:64]))


def forget_login_attempt(*, session: Session, attempt_id: int) -> None:
    """Drop a reserved attempt that turned out to be a successful login."""
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.id) == attempt_id))  # type: ignore[call-overload]


def clear_failed_logins(*, session: Session, email: str) -> None:
    """Forget an e-mail's failed logins after a successful one."""
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.email) == email.strip().lower()))  # type: ignore[call-overload]


# --- API tokens ---

def add_api_token(*, session: Session, integrator: Integrator, name: str, token: str) -> ApiToken:
    """Store a new bearer token (hashed); the caller shows `token` once."""
    row = ApiToken(integrator_id=integrator.id or 0, name=name, token_sha256=sha256(token), prefix=token[:8])
    session.add(row)
    session.flush()
    log.info("api_token_created", integrator_id=integrator.id, token_id=row.id)
    return row


def integrator_of_token(*, session: Session, token: str) -> Integrator | None:
    """The active integrator owning a non-revoked bearer token, or None."""
    row = session.exec(select(ApiToken).where(ApiToken.token_sha256 == sha256(token),
                                              or_(col(ApiToken.revoked_at).is_(None)))).first()
    if row is None:
        return None
    row.last_used_at = utcnow()
    session.add(row)
    integrator = session.get(Integrator, row.integrator_id)
    return integrator if integrator is not None and integrator.active else None


def tokens_of(*, session: Session, integrator_id: int) -> list[ApiToken]:
    """An integrator's API tokens (revoked ones too), newest first."""
    query = select(ApiToken).where(ApiToken.integrator_id == integrator_id).order_by(col(ApiToken.id).desc())
    return list(session.exec(query).all())


def revoke_token(*, session: Session, ref: str, integrator_id: int | None = None) -> ApiToken:
    """Revoke a token by id or by its printed prefix (`fat_…`); with `integrator_id`, only one of theirs.

    The token stops working at once; revoking it again keeps the first revocation time. TokenNotFound
    for an unknown token, another integrator's, or a prefix that names several tokens.
    """
    query = select(ApiToken)
    if ref.isdigit():
        query = query.where(ApiToken.id == int(ref))
    else:
        query = query.where(ApiToken.prefix == ref[:16])
    if integrator_id is not None:
        query = query.where(ApiToken.integrator_id == integrator_id)
    rows = list(session.exec(query).all())
    if len(rows) != 1:
        raise TokenNotFound(f"no single API token {ref!r}" + (" (the prefix names several)" if rows else ""))
    (row,) = rows
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        log.info("api_token_revoked", integrator_id=row.integrator_id, token_id=row.id)
    return row


def set_integrator_active(*, session: Session, integrator: Integrator, active: bool) -> None:
    """Disable (or enable again) an integrator: a disabled one's sessions and tokens stop working at once."""
    integrator.active = active
    session.add(integrator)
    if not active:
        session.exec(delete(WebSession).where(col(WebSession.integrator_id) == integrator.id))  # type: ignore[call-overload]
    log.info("integrator_enabled" if active else "integrator_disabled", integrator_id=integrator.id)
