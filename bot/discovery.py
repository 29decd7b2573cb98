"""Discovery: log in with a portal login's credentials and store the installations its portal lists.

Reuses the adhesion machinery (bot.adhesion): the login's saved browser session restores the context when
its credentials still match, and the session is saved again afterwards. A login without a password ends at
once in the named state `password_required` (the password was never given, or was erased).
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from playwright.async_api import async_playwright

from bot.adhesion import AdhesionOptions, _base_url, _challenge_policy, _LoginContext, _Tracer
from bot.workdir import driver_tmpdir, run_folder
from config.context import AppContext
from flows.base import RetryPolicy
from flows.browser import BrowserSettings
from flows.cemig.discovery import ListedInstallation, discover
from flows.cemig.flow import CemigFlow
from flows.errors import ChallengeRequired, FlowError, LoginRejected, PortalUnavailable
from storage.adhesion import credential_scope, load_browser_state, save_browser_state
from storage.discovery import record_discovery
from storage.engine import session_scope
from storage.logins import get_login, login_password

log = structlog.get_logger(__name__)


class DiscoveryStatus:
    """How a discovery ended."""

    DONE = "discovered"
    PASSWORD_REQUIRED = "password_required"  # noqa: S105 - a state name, not a password
    INVALID_CREDENTIALS = "invalid_credentials"
    CHALLENGE_REQUIRED = "challenge_required"
    PORTAL_UNAVAILABLE = "portal_unavailable"
    PORTAL_CHANGED = "portal_changed"
    UNSUPPORTED = "unsupported_utility"


MESSAGES = {
    DiscoveryStatus.PASSWORD_REQUIRED: "A senha do portal deste login não está guardada. Informe a senha "
                                       "para buscar as instalações.",
    DiscoveryStatus.INVALID_CREDENTIALS: "O portal recusou o login ou a senha. Confira e informe a senha de novo.",
    DiscoveryStatus.CHALLENGE_REQUIRED: "O portal pediu um captcha. Rode a busca com --headed e resolva-o, "
                                        "ou configure um serviço de captcha.",
    DiscoveryStatus.PORTAL_UNAVAILABLE: "O portal não respondeu. Tente de novo mais tarde.",
    DiscoveryStatus.PORTAL_CHANGED: "A lista de instalações do portal mudou e não foi possível lê-la. "
                                    "Avise o suporte.",
    DiscoveryStatus.UNSUPPORTED: "A busca de instalações ainda não existe para esta distribuidora.",
}


@dataclass(frozen=True)
class DiscoveryOutcome:
    """What a discovery found, or the named state it ended in (with a pt-BR message)."""

    login_id: int
    status: str
    message: str
    installations: list[ListedInstallation] = field(default_factory=list)


async def discover_login(app: AppContext, login_id: int, options: AdhesionOptions,
                         integrator_id: int | None = None) -> DiscoveryOutcome:
    """Log in as the login and record every installation the portal lists for it."""
    keys = app.keys()
    with session_scope(app.engine) as session:
        login = get_login(session=session, login_id=login_id, integrator_id=integrator_id)
        utility, name, owner = login.utility, login.login, login.integrator_id
        password = login_password(login=login, keys=keys)
    if utility != CemigFlow.utility:
        return _ended(login_id, DiscoveryStatus.UNSUPPORTED)
    if not password:
        return _ended(login_id, DiscoveryStatus.PASSWORD_REQUIRED)
    app.redactor.register(password)
    scope = credential_scope(keys=keys, utility=utility, integrator_id=owner, portal_login=name, password=password)
    with session_scope(app.engine) as session:
        state = load_browser_state(session=session, scope=scope, keys=keys)
    browser_settings = BrowserSettings.load(app.settings.playwright_config)
    flow = CemigFlow(base_url=_base_url(app, browser_settings, utility),
                     action_timeout_ms=browser_settings.action_timeout_ms,
                     navigation_timeout_ms=browser_settings.navigation_timeout_ms,
                     retry=RetryPolicy(max_restarts=2, backoff_s=(options.backoff_s / 5, options.backoff_s / 2)))
    with run_folder(app.settings.data_dir) as folder:
        async with contextlib.AsyncExitStack() as stack:
            async with driver_tmpdir(folder):
                playwright = await stack.enter_async_context(async_playwright())
            browser = await playwright.chromium.launch(**browser_settings.launch_options(
                headless=False if options.headed else None))
            holder = _LoginContext(browser, browser_settings, options, folder)
            try:
                context, tracer = await holder.open(state, scope.key)
                listed = await _run(flow, context, tracer, folder, name, password,
                                    _challenge_policy(app, options, browser_settings))
                if isinstance(listed, str):
                    return _ended(login_id, listed)
                new_state = await context.storage_state()
            finally:
                await holder.close()
                await browser.close()
    with session_scope(app.engine) as session:
        record_discovery(session=session, login_id=login_id, listed=[i.as_dict() for i in listed])
        save_browser_state(session=session, scope=scope, state=dict(new_state), keys=keys)
    log.info("login_discovered", portal_login_id=login_id, count=len(listed))
    return DiscoveryOutcome(login_id, DiscoveryStatus.DONE,
                            f"{len(listed)} instalação(ões) encontrada(s) neste login.", listed)


async def _run(flow: CemigFlow, context, tracer: _Tracer, folder: Path, login: str, password: str,  # noqa: ANN001
               challenge) -> list[ListedInstallation] | str:  # noqa: ANN001 - ChallengePolicy
    """The flow in the login's context; a failure becomes its state name (traces are not kept here)."""
    with tempfile.TemporaryDirectory(prefix="trace-", dir=folder) as tmp:
        await tracer.begin(Path(tmp))
        try:
            return await discover(flow, context, login=login, password=password, challenge=challenge,
                                  on_step=lambda step: log.info("discovery_step_started", step=step),
                                  around_login=tracer.paused)
        except LoginRejected:
            return DiscoveryStatus.INVALID_CREDENTIALS
        except ChallengeRequired:
            return DiscoveryStatus.CHALLENGE_REQUIRED
        except PortalUnavailable:
            return DiscoveryStatus.PORTAL_UNAVAILABLE
        except FlowError as exc:
            log.warning("discovery_failed", step=getattr(exc, "step", None), error_type=type(exc).__name__)
            return DiscoveryStatus.PORTAL_CHANGED
        finally:
            with contextlib.suppress(Exception):
                await tracer.end(failed=False)


def _ended(login_id: int, status: str) -> DiscoveryOutcome:
    log.info("login_discovery_ended", portal_login_id=login_id, status=status)
    return DiscoveryOutcome(login_id, status, MESSAGES[status])
