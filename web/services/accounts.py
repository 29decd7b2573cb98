"""Integrator accounts: creating users and tokens, logging in with a rate limit on failures."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from config.settings import Settings
from storage.engine import session_scope
from storage.integrators import (
    IntegratorNotFound,
    add_api_token,
    clear_failed_logins,
    create_integrator,
    failed_logins,
    get_integrator,
    open_session,
    record_failed_login,
)
from storage.web_models import Integrator
from web.errors import InvalidLogin, TooManyLogins
from web.security import hash_password, new_token, verify_password


def add_user(*, session: Session, email: str, password: str, name: str | None = None) -> Integrator:
    """A new integrator with an argon2 password hash."""
    return create_integrator(session=session, email=email, password_hash=hash_password(password), name=name)


def set_password(*, session: Session, integrator: Integrator, password: str) -> None:
    """Replace an integrator's password (argon2 hash); their open sessions stay valid."""
    integrator.password_hash = hash_password(password)
    session.add(integrator)


def new_api_token(*, session: Session, integrator: Integrator, name: str) -> str:
    """Create a bearer token and return it (the only time it can be seen)."""
    token = new_token("fat_")
    add_api_token(session=session, integrator=integrator, name=name, token=token)
    return token


def log_in(*, engine: Engine, settings: Settings, email: str, password: str, client: str) -> str:
    """Check the password and open a session; returns the cookie token.

    Raises TooManyLogins when the e-mail or the client address had `web_login_max_attempts` failures in
    the window (checked before the password, so guessing stops), InvalidLogin on a wrong e-mail or password.
    A failure is recorded in its own transaction.
    """
    email = email.strip().lower()
    with session_scope(engine) as session:
        if failed_logins(session=session, email=email, client=client,
                         window_s=settings.web_login_window_s) >= settings.web_login_max_attempts:
            raise TooManyLogins(f"login rate limit reached for {client}")
        try:
            integrator: Integrator | None = get_integrator(session=session, email=email)
        except IntegratorNotFound:
            integrator = None
        ok = verify_password(integrator.password_hash if integrator else None, password)
        if integrator is None or not ok or not integrator.active:
            record_failed_login(session=session, email=email, client=client)
        else:
            clear_failed_logins(session=session, email=email)
            token = new_token()
            open_session(session=session, integrator=integrator, token=token,
                         max_age_s=settings.web_session_max_age_s)
            return token
    raise InvalidLogin("wrong e-mail or password")
