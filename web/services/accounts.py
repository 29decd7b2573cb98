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
    forget_login_attempt,
    get_integrator,
    login_counts,
    open_session,
    reserve_login_attempt,
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


# Failed logins allowed in the window, as multiples of `web_login_max_attempts`: one address guessing one
# account is stopped first; many addresses guessing one account later; one address (an office behind
# one NAT, where colleagues log in too) only when it guesses far more, so one person's typos there never
# lock the others out.
EMAIL_FACTOR = 3
CLIENT_FACTOR = 10


def log_in(*, engine: Engine, settings: Settings, email: str, password: str, client: str) -> str:
    """Check the password and open a session; returns the cookie token.

    Every attempt is recorded and committed before anything is counted, so concurrent guesses cannot all
    pass one check (storage.integrators.reserve_login_attempt). Raises TooManyLogins when, in the window,
    (client, e-mail) had more than `web_login_max_attempts` attempts, the e-mail EMAIL_FACTOR times that,
    or the client address CLIENT_FACTOR times that (checked before the password, so guessing stops);
    InvalidLogin on a wrong e-mail or password. A successful login removes its own attempt and the
    e-mail's failures.
    """
    email = email.strip().lower()
    limit = settings.web_login_max_attempts
    with session_scope(engine) as session:
        attempt_id = reserve_login_attempt(session=session, email=email, client=client)
    with session_scope(engine) as session:
        counts = login_counts(session=session, email=email, client=client, window_s=settings.web_login_window_s)
        if counts.pair > limit or counts.email > limit * EMAIL_FACTOR or counts.client > limit * CLIENT_FACTOR:
            raise TooManyLogins(f"login rate limit reached for {client}")
        try:
            integrator: Integrator | None = get_integrator(session=session, email=email)
        except IntegratorNotFound:
            integrator = None
        ok = verify_password(integrator.password_hash if integrator else None, password)
        if integrator is not None and ok and integrator.active:
            forget_login_attempt(session=session, attempt_id=attempt_id)
            clear_failed_logins(session=session, email=email)
            token = new_token()
            open_session(session=session, integrator=integrator, token=token,
                         max_age_s=settings.web_session_max_age_s)
            return token
    raise InvalidLogin("wrong e-mail or password")
