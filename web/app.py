"""The app factory: `create_app(app_context)` builds the dashboard and the JSON API around one AppContext."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from config.context import AppContext
from reports import format as fmt
from reports.monthly import generation_ratio
from web.context import STATIC, TEMPLATES, WebContext
from web.errors import install_error_handlers
from web.sandbox import Sandbox
from web.security import load_or_create_secret
from web.services.adhesion import AdhesionRunner
from web.upload_guard import UploadGuard

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def create_app(app_context: AppContext, *, runner: AdhesionRunner | None = None,
               sandbox: Sandbox | None = None) -> FastAPI:
    """The ASGI app; reads (or creates) the cookie-signing secret, nothing else happens until a request.

    `runner` runs queued adhesions (default: background threads in this process; `ServiceAdhesionRunner`
    when the service runs in this process); tests pass a fake. `sandbox` (from `faturas serve --sandbox`)
    adds the sandbox-only controls and their routes.
    """
    from service.health import ReadinessProbe
    from service.metrics import metrics_registry
    from service.scheduler import STALE_AFTER_S
    from web.api import api_router
    from web.routes import auth, health, invoices, logins, report_forward, review, senders, tokens, units
    from web.routes import sandbox as sandbox_routes

    settings = app_context.settings
    assert settings.web_session_key_file is not None  # noqa: S101 - always set by load_settings
    app = FastAPI(title="faturas", version="1", docs_url=None, redoc_url=None,
                  openapi_url="/api/v1/openapi.json",
                  description="API dos integradores: unidades, adesão à Conta Digital e faturas.")
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.filters.update(brl=fmt.brl, num=fmt.number, kwh=fmt.kwh, mes=fmt.month_label, data=fmt.date_br,
                                 pct=fmt.percent)
    templates.env.globals["ratio"] = generation_ratio
    app.state.web = WebContext(app=app_context, secret=load_or_create_secret(settings.web_session_key_file),
                               templates=templates, runner=runner or AdhesionRunner(app_context),
                               sandbox=sandbox)
    app.state.readiness = ReadinessProbe(app_context)
    app.state.metrics = metrics_registry(app_context.raw_engine, stale_after_s=STALE_AFTER_S)
    install_error_handlers(app)

    @app.middleware("http")
    async def _security_headers(request, call_next):  # noqa: ANN001, ANN202 - ASGI middleware
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # Everything the pages use is served from here; no inline scripts or styles, no framing.
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    # Outermost: oversized or anonymous uploads are refused before FastAPI reads (and spools) a body.
    app.add_middleware(UploadGuard, engine_of=lambda: app_context.engine)

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(units.router)
    app.include_router(logins.router)
    app.include_router(invoices.router)
    app.include_router(review.router)
    app.include_router(report_forward.router)
    app.include_router(tokens.router)
    app.include_router(senders.router)
    if sandbox is not None:
        app.include_router(sandbox_routes.router)
    app.include_router(api_router, prefix="/api/v1")
    return app
