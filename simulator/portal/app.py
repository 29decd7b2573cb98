"""The app factory: a local CEMIG Agência Virtual over a given store.

    store = Store("portal.db")
    app = create_app(store, admin_token="s3cret")

Nothing happens at import time; each call builds an independent app (its own secret, templates, routers).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.templating import Jinja2Templates

from simulator.portal import admin, routes_account, routes_auth, routes_mui, routes_services, routes_spa
from simulator.portal.captcha import SITE_KEY, Captcha
from simulator.portal.context import TEMPLATES_DIR, Portal, install_handlers
from simulator.portal.fields import FieldRecorder
from simulator.portal.sessions import Sessions
from simulator.portal.store import Store

DEFAULT_SOLVER_KEY = "simulator-solver-key"


def create_app(store: Store, *, admin_token: str, secret_key: bytes | None = None,
               solver_key: str | None = DEFAULT_SOLVER_KEY, session_ttl: float = 1800.0,
               captcha_ttl: float = 120.0, site_key: str = SITE_KEY,
               outbox: Callable[[bytes, str], None] | None = None) -> FastAPI:
    """Build the portal app.

    ``admin_token`` protects ``/_admin/``; ``secret_key`` signs session cookies (random when left out, so
    sessions do not survive a restart); ``outbox`` sends the portal's own e-mails (confirmation codes and links:
    raw message, recipient); ``solver_key`` is the only key the fake solver accepts (None: any
    non-empty key); ``session_ttl`` and ``captcha_ttl`` are in seconds.
    """
    if not admin_token:
        raise ValueError("admin_token must not be empty")
    secret = secret_key or secrets.token_bytes(32)
    form_token = hmac.new(secret, b"login-form", hashlib.sha256).hexdigest()
    app = FastAPI(title="Simulador Cemig Atende", docs_url=None, redoc_url=None, openapi_url="/_admin/openapi.json")
    app.state.portal = Portal(
        store=store,
        sessions=Sessions(store, secret, session_ttl),
        captcha=Captcha(store, ttl=captcha_ttl, solver_key=solver_key, site_key=site_key),
        templates=Jinja2Templates(directory=str(TEMPLATES_DIR)),
        admin_token=admin_token,
        form_token=form_token,
        outbox=outbox,
    )
    install_handlers(app)
    for module in (routes_auth, routes_account, routes_services, routes_spa, routes_mui, admin):
        app.include_router(module.router)
    app.add_middleware(FieldRecorder, log=app.state.portal.store.log_event)
    return app
