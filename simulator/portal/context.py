"""What every portal page shares: the app's parts, the per-request guard (session, scenario) and rendering.

``enter(request, step)`` is called first by each logged-in page. It finds the session, applies the
customer's scenario for that step (session expiry, delay, injected 500/503) and returns a :class:`Visit`.
Obstacles are raised as exceptions and turned into responses by the handlers installed here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from simulator.portal import scenarios
from simulator.portal.captcha import Captcha
from simulator.portal.models import Customer, Installation
from simulator.portal.perturb import SERVER_RENDERED, Perturbation
from simulator.portal.sessions import COOKIE_NAME, Session, Sessions
from simulator.portal.store import Store

TEMPLATES_DIR = Path(__file__).parent / "templates"
CONSENT_COOKIE = "OptanonAlertBoxClosed"


@dataclass
class Portal:
    """The parts of one app instance (kept on ``app.state.portal``)."""

    store: Store
    sessions: Sessions
    captcha: Captcha
    templates: Jinja2Templates
    admin_token: str
    form_token: str
    outbox: Callable[[bytes, str], None] | None = None
    """Sends the portal's own e-mails (raw message, recipient); None: the portal sends none."""


@dataclass(frozen=True)
class Visit:
    """One logged-in request: who, which installation, and the scenario in force."""

    portal: Portal
    session: Session
    customer: Customer
    installation: Installation | None
    scenario: scenarios.Effective
    step: str = ""

    @property
    def shake(self) -> Perturbation:
        """The seeded perturbation of this customer's family (simulator.portal.perturb)."""
        return Perturbation.of(self.scenario.perturb_seed, family=self.scenario.variant)


class LoginRequired(Exception):  # noqa: N818 - a control-flow signal, not an error
    """No live session: go to the login page (saying so when a session just expired)."""

    def __init__(self, expired: bool) -> None:
        super().__init__("login required")
        self.expired = expired


class InjectedFault(Exception):  # noqa: N818 - a control-flow signal, not an error
    """A scenario makes this step answer with HTTP 500 or 503."""

    def __init__(self, status: int, variant: str) -> None:
        super().__init__(f"injected HTTP {status}")
        self.status = status
        self.variant = variant


def home_url(variant: str) -> str:
    """Where each variant's home lives: ``/portal/home``, ``/Home``, or the client-side families' own route."""
    if variant == "spa":
        return "/portal/inicio"
    if variant == "mui":
        return "/app/inicio"
    return "/portal/home" if variant == "new" else "/Home"


def portal_of(request: Request) -> Portal:
    """The app's parts, from the request."""
    return request.app.state.portal


async def obstacles(portal: Portal, scenario: scenarios.Effective, step: str) -> None:
    """Apply the scenario's delay and injected faults for one step."""
    delay = scenarios.delay_for(scenario, step)
    if delay:
        await asyncio.sleep(delay)
    status = scenarios.fault_for(portal.store, scenario, step)
    if status is not None:
        portal.store.log_event("fault_injected", step=step, status=status)
        raise InjectedFault(status, scenario.variant)


def after_change(visit: Visit, step: str) -> None:
    """Fail a saving step after its change was stored, when the scenario says so (``when="after"``)."""
    status = scenarios.fault_for(visit.portal.store, visit.scenario, step, when="after")
    if status is not None:
        visit.portal.store.log_event("fault_injected", customer_id=visit.customer.id, step=step, status=status,
                                     when="after")
        raise InjectedFault(status, visit.scenario.variant)


async def enter(request: Request, step: str) -> Visit:
    """Guard a logged-in page: session, scenario expiry, delay and faults, in that order."""
    portal = portal_of(request)
    session_id = portal.sessions.unsign(request.cookies.get(COOKIE_NAME))
    session = portal.sessions.get(session_id)
    if session is None:
        raise LoginRequired(expired=session_id is not None)
    customer = portal.store.customer(session.customer_id)
    scenario = scenarios.effective(portal.store, customer.id)
    requests = portal.sessions.touch(session.id)
    if scenarios.session_expires(portal.store, scenario, step, requests):
        portal.sessions.end(session.id)
        portal.store.log_event("session_expired", customer_id=customer.id, step=step)
        raise LoginRequired(expired=True)
    await obstacles(portal, scenario, step)
    installation = None
    if session.installation:
        installation = portal.store.find_installation(session.installation, customer_id=customer.id)
    return Visit(portal, session, customer, installation, scenario, step)


def render(request: Request, template: str, variant: str, status_code: int = 200, **context: Any) -> Response:
    """Render a pt-BR page in the given markup variant (``new`` or ``legacy``)."""
    portal = portal_of(request)
    if variant == "agv" and (TEMPLATES_DIR / "agv" / template).exists():
        template = f"agv/{template}"  # the classic AGV family has its own markup and wording
    context.setdefault("shake", Perturbation.of(0, family=variant))
    context.update(
        variant=variant, legacy=variant in ("legacy", "agv"), layout=f"layout_{variant}.html",
        home_url=home_url(variant),
        show_cookie_banner=CONSENT_COOKIE not in request.cookies,
    )
    return portal.templates.TemplateResponse(request, template, context, status_code=status_code)


def render_visit(request: Request, visit: Visit, template: str, status_code: int = 200, **context: Any) -> Response:
    """Render a logged-in page: header with the customer, the selected installation and the user menu."""
    context.setdefault("customer", visit.customer)
    context.setdefault("installation", visit.installation)
    context.setdefault("installations", visit.portal.store.installations(visit.customer.id))
    shake = visit.shake
    context.setdefault("shake", shake)
    if visit.scenario.variant in SERVER_RENDERED and status_code < 400:
        # The page's main content arrives late, by XHR, behind a "Carregando…" placeholder (layouts).
        context.setdefault("late_ms", int(shake.delay(visit.step) * 1000))
    return render(request, template, visit.scenario.variant, status_code, **context)


def install_handlers(app: FastAPI) -> None:
    """Turn the guard's signals into a redirect to the login page or an error page."""

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        response = RedirectResponse("/Login?sessao=expirada" if exc.expired else "/Login", status_code=303)
        response.delete_cookie(COOKIE_NAME, path="/")
        return response

    @app.exception_handler(InjectedFault)
    async def _fault(request: Request, exc: InjectedFault) -> Response:
        return render(request, "error.html", exc.variant, status_code=exc.status, status=exc.status)
