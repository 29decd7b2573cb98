"""Onboarding: run the utility's adhesion flow for units, record every attempt, keep evidence of failures.

One browser, one context per unit, `concurrency` units at a time. A saved session or a live context only
ever serves units whose own stored credentials opened it (same integrator, login and password: see
storage.adhesion.credential_scope). Inside an attempt the flow restarts
itself on transient failures; across attempts this module retries transient outcomes with backoff.
States that need a person (wrong password, captcha, unknown installation, portal changed) are never
retried automatically.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from playwright.async_api import Browser, BrowserContext, Playwright, async_playwright

from bot.confirmation import ImapConfirmationReader
from bot.har_bodies import ResponseBodies
from bot.scrub import scrub_zip
from bot.workdir import driver_tmpdir, run_folder
from config.context import AppContext
from config.wiring import blob_store
from flows.base import AdhesionRequest, AdhesionResult, ChallengePolicy, RetryPolicy, ScreenHook
from flows.browser import BrowserSettings
from flows.errors import (
    ChallengeRequired,
    FlowError,
    InstallationNotFound,
    LoginRejected,
    PortalChanged,
    PortalUnavailable,
)
from flows.registry import FLOWS
from flows.solver import TwoCaptchaImageSolver, TwoCaptchaSolver
from storage.adhesion import (
    CredentialScope,
    credential_scope,
    finish_attempt,
    forget_browser_state,
    load_browser_state,
    save_browser_state,
    start_attempt,
)
from storage.engine import session_scope
from storage.errors import ConfigurationError
from storage.logins import rename_login
from storage.models import AdhesionAttempt, AdhesionStatus, Unit
from storage.units import get_unit, portal_password

log = structlog.get_logger(__name__)

STATE_OF_ERROR: tuple[tuple[type[FlowError], AdhesionStatus], ...] = (
    (LoginRejected, AdhesionStatus.INVALID_CREDENTIALS),
    (ChallengeRequired, AdhesionStatus.CAPTCHA_REQUIRED),
    (InstallationNotFound, AdhesionStatus.INSTALLATION_NOT_FOUND),
    (PortalChanged, AdhesionStatus.PORTAL_CHANGED),
    (PortalUnavailable, AdhesionStatus.PORTAL_UNAVAILABLE),
)


@dataclass(frozen=True)
class AdhesionOptions:
    """How a batch of adhesions runs (from the CLI, the scheduler or the dashboard)."""

    concurrency: int = 2
    headed: bool = False
    attempts: int = 2
    backoff_s: float = 5.0
    record_har: Path | None = None
    """When set (one unit only), the run is recorded as a HAR file there (unscrubbed: see bot.har)."""
    har_bodies: ResponseBodies | None = None
    """With `record_har`: keeps the fetch/XHR bodies the HAR may lack (bot.har_bodies)."""
    on_screen: ScreenHook | None = None
    """Told of every screen the flow recognises (the supervised capture mode, bot.capture)."""


@dataclass(frozen=True)
class UnitOutcome:
    """What happened to one unit in this run."""

    unit_id: int
    status: AdhesionStatus
    message: str | None
    attempts: int
    submissions: int = 0
    changes: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        """Whether the unit did not end enrolled."""
        return self.status not in (AdhesionStatus.ENROLLED, AdhesionStatus.VERIFIED)


@dataclass
class _Prepared:
    unit_id: int
    utility: str
    request: AdhesionRequest
    storage_state: dict | None
    scope: CredentialScope
    attempt_id: int = 0
    artifacts: list[dict] = field(default_factory=list)


def _base_url(app: AppContext, browser_settings: BrowserSettings, utility: str) -> str:
    url = browser_settings.base_urls.get(utility)
    if not url:
        raise ConfigurationError(f"no base URL for {utility}: set [utilities.{utility}] base_url in "
                                 f"{app.settings.playwright_config} or FATURAS_{utility.upper()}_BASE_URL")
    return url


def _challenge_policy(app: AppContext, options: AdhesionOptions, browser_settings: BrowserSettings) -> ChallengePolicy:
    solver = image_solver = None
    if app.settings.captcha_solver_url and app.settings.captcha_solver_key:
        # One service account reads both kinds of captcha the login may show (reference §2.1).
        poll_s = min(5.0, max(0.2, app.settings.adhesion_backoff_s))
        solver = TwoCaptchaSolver(app.settings.captcha_solver_url, app.settings.captcha_solver_key,
                                  poll_interval_s=poll_s)
        image_solver = TwoCaptchaImageSolver(app.settings.captcha_solver_url, app.settings.captcha_solver_key,
                                             poll_interval_s=poll_s)
    confirmation = ImapConfirmationReader(app.settings.mail.accounts) if app.settings.mail.accounts else None
    return ChallengePolicy(operator_wait_s=browser_settings.operator_challenge_s if options.headed else 0.0,
                           solver=solver, image_solver=image_solver,
                           image_rejected=image_solver.report_bad if image_solver is not None else None,
                           image_attempts=app.settings.captcha_image_attempts,
                           email_confirmation=confirmation)


def _prepare(app: AppContext, unit_id: int) -> _Prepared | UnitOutcome:
    """Read what the flow needs; a unit without credentials ends at once with a clear message."""
    keys = app.keys()
    with session_scope(app.engine) as session:
        unit = get_unit(session=session, ref=unit_id)
        password = portal_password(session=session, unit=unit, keys=keys)
        if unit.portal_login and not password:
            # The login's password was erased once its units were enrolled (storage.credentials), or never
            # given: a person must give it again; the bot does not log in without it.
            message = PASSWORD_REQUIRED_MESSAGE
            _finish_without_run(session, unit, message, status=AdhesionStatus.PASSWORD_REQUIRED)
            return UnitOutcome(unit.id or unit_id, AdhesionStatus.PASSWORD_REQUIRED, message, attempts=0)
        if not unit.portal_login or not password:
            message = "no portal login or password registered for this unit"
            _finish_without_run(session, unit, message)
            return UnitOutcome(unit.id or unit_id, AdhesionStatus.INVALID_CREDENTIALS, message, attempts=0)
        app.redactor.register(password)
        scope = credential_scope(keys=keys, utility=unit.utility, integrator_id=unit.integrator_id,
                                 portal_login=unit.portal_login, password=password)
        state = load_browser_state(session=session, scope=scope, keys=keys)
        return _Prepared(
            unit_id=unit.id or unit_id, utility=unit.utility, storage_state=state, scope=scope,
            request=AdhesionRequest(portal_login=unit.portal_login, portal_password=password,
                                    installation=unit.installation, uc_code=unit.uc_code,
                                    target_email=unit.inbox_address, holder_name=unit.client_name))


PASSWORD_REQUIRED_MESSAGE = (
    "A senha do portal deste login não está guardada (foi apagada após a adesão, "  # noqa: S105 - a message
    "conforme a LGPD, ou nunca foi informada). Informe a senha atual da Agência Virtual para aderir de novo.")


def _finish_without_run(session, unit: Unit, message: str,  # noqa: ANN001 - sqlmodel Session
                        status: AdhesionStatus = AdhesionStatus.INVALID_CREDENTIALS) -> None:
    attempt = start_attempt(session=session, unit=unit)
    finish_attempt(session=session, attempt=attempt, unit=unit, status=status, message=message, step="prepare")


class _Tracer:
    """Playwright tracing of one context in chunks, paused while the password is typed.

    Tracing starts once per context; each attempt records its own chunks. A chunk is written to disk only
    when it may be kept: the one cut before the password is typed (the attempt may still fail), and the
    last one when the attempt failed or the policy is "on". A successful attempt's last chunk is discarded
    by the driver without being written.
    """

    def __init__(self, context: BrowserContext, policy: str, snapshots: bool = True) -> None:
        self.context, self.policy, self.snapshots = context, policy, snapshots
        self.workdir: Path | None = None
        self.parts: list[Path] = []
        self._started = False

    async def begin(self, workdir: Path) -> None:
        """Open the first chunk of an attempt; its files go to `workdir`."""
        self.workdir, self.parts = workdir, []
        if self.policy == "off":
            return
        if not self._started:
            # DOM snapshots and network (unless `[tracing] snapshots = false`: ~15 % of a unit's CPU), never
            # the screencast: it costs more CPU than the rest of the run, and a failure keeps its own
            # full-page screenshot.
            await self.context.tracing.start(screenshots=False, snapshots=self.snapshots)
            self._started = True
        await self.context.tracing.start_chunk(title="before-login")

    async def _cut(self) -> None:
        assert self.workdir is not None  # noqa: S101 - begin() came first
        path = self.workdir / f"trace-{len(self.parts) + 1}.zip"
        await self.context.tracing.stop_chunk(path=str(path))
        self.parts.append(path)

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """Close the current chunk before the password is typed and open a new one after the login."""
        if self.policy == "off":
            yield
            return
        await self._cut()
        # A chunk boundary alone is not enough: the driver's network recorder keeps writing every request,
        # the login request's body included, to a file on disk between chunks. Stopping tracing stops it.
        await self.context.tracing.stop()
        try:
            yield
        finally:
            await self.context.tracing.start(screenshots=False, snapshots=self.snapshots)
            await self.context.tracing.start_chunk(title="after-login")

    async def end(self, *, failed: bool) -> list[Path]:
        """Close the attempt's last chunk; the chunk files to keep under the policy (none on success)."""
        if self.policy == "off":
            return []
        keep = self.policy == "on" or failed
        with contextlib.suppress(Exception):
            if keep:
                await self._cut()
            else:
                await self.context.tracing.stop_chunk()  # discarded by the driver, never written
        return self.parts if keep else []


class _LoginContext:
    """The browser context of one set of credentials, reused by the units that hold them while they succeed.

    Units of different logins, integrators or passwords never share a context (cookies, storage and the
    saved session stay apart): `open` closes a live context opened for another scope. After a failed
    attempt the context is closed, so the next attempt or unit starts from a clean one.
    """

    def __init__(self, browser: Browser, browser_settings: BrowserSettings, options: AdhesionOptions,
                 folder: Path) -> None:
        self.browser, self.browser_settings, self.options = browser, browser_settings, options
        self.folder = folder  # the run's private folder (bot.workdir): trace chunks are cut into it
        self.context: BrowserContext | None = None
        self.tracer: _Tracer | None = None
        self.scope_key: str | None = None

    async def open(self, storage_state: dict | None, scope_key: str) -> tuple[BrowserContext, _Tracer]:
        """The live context of `scope_key`, or a new one restoring `storage_state` (that scope's saved session)."""
        if self.context is not None and self.scope_key != scope_key:
            await self.close()  # opened by other credentials: never lent
        if self.context is None or self.tracer is None:
            self.scope_key = scope_key
            context_args: dict = {"locale": "pt-BR", "timezone_id": "America/Sao_Paulo"}
            if storage_state:
                context_args["storage_state"] = storage_state
            if self.options.record_har:
                context_args.update(record_har_path=str(self.options.record_har), record_har_content="embed")
            self.context = await self.browser.new_context(**context_args)
            if self.options.har_bodies is not None:
                await self.options.har_bodies.attach(self.context)
            self.tracer = _Tracer(self.context, self.browser_settings.tracing_policy,
                                  self.browser_settings.trace_snapshots)
        return self.context, self.tracer

    async def close(self) -> None:
        """Close the context (a HAR being recorded is written now)."""
        context, self.context, self.tracer, self.scope_key = self.context, None, None, None
        if context is not None:
            with contextlib.suppress(Exception):
                await context.close()


async def _run_attempt(app: AppContext, login: _LoginContext, prepared: _Prepared, options: AdhesionOptions,
                       browser_settings: BrowserSettings) -> AdhesionResult:
    """One attempt in the login's context; failure evidence (screenshot, traces) goes into `prepared.artifacts`."""
    flow_class = FLOWS[prepared.utility]
    flow = flow_class(base_url=_base_url(app, browser_settings, prepared.utility),
                      action_timeout_ms=browser_settings.action_timeout_ms,
                      navigation_timeout_ms=browser_settings.navigation_timeout_ms,
                      retry=RetryPolicy(max_restarts=3, backoff_s=(options.backoff_s / 5, options.backoff_s / 2,
                                                                    options.backoff_s)))
    flow.on_screen = options.on_screen
    context, tracer = await login.open(prepared.storage_state, prepared.scope.key)
    with tempfile.TemporaryDirectory(prefix="trace-", dir=login.folder) as tmp:

        def on_step(step: str) -> None:
            log.info("adhesion_step_started", step=step)
            _record_step(app, prepared.attempt_id, step)

        try:
            await tracer.begin(Path(tmp))
            result = await flow.adhere(context, prepared.request, challenge=_challenge_policy(
                app, options, browser_settings), on_step=on_step, around_login=tracer.paused)
        except Exception as exc:
            try:
                _keep_portal_evidence(app, prepared, exc)
                await _keep_evidence(app, context, tracer, prepared, failed=True)
            finally:
                await login.close()
            raise
        try:
            state = await context.storage_state()
            await _keep_evidence(app, context, tracer, prepared, failed=False)
        except Exception:
            await login.close()
            raise
        with session_scope(app.engine) as session:
            scope = prepared.scope
            if result.new_portal_login:
                scope = credential_scope(keys=app.keys(), utility=scope.utility, integrator_id=scope.integrator_id,
                                         portal_login=result.new_portal_login,
                                         password=prepared.request.portal_password)
                # The portal now logs in with the inbox address; without this the next login would fail.
                rename_login(session=session, unit=get_unit(session=session, ref=prepared.unit_id),
                             new_login=result.new_portal_login)
                log.info("portal_login_changed", reason="access e-mail is the login")
            save_browser_state(session=session, scope=scope, state=dict(state), keys=app.keys())
        return result


async def _keep_evidence(app: AppContext, context: BrowserContext, tracer: _Tracer, prepared: _Prepared, *,
                         failed: bool) -> None:
    """Screenshot and trace chunks, encrypted, when the policy keeps them for this outcome."""
    blobs = blob_store(app)
    keys = app.keys()
    if failed and context.pages:
        with contextlib.suppress(Exception):
            shot = await context.pages[0].screenshot(full_page=True)
            prepared.artifacts.append({"kind": "screenshot", "name": "failure.png", "blob": blobs.put(shot, keys=keys)})
    parts = await tracer.end(failed=failed)
    # Tracing is stopped while the password is typed and the login request is sent; scrub every kept
    # chunk as well, in case a portal echoes the password in a later page or request.
    secrets = [prepared.request.portal_password]
    for index, part in enumerate(parts, start=1):
        clean = scrub_zip(part.read_bytes(), secrets)
        prepared.artifacts.append({"kind": "trace", "name": f"trace-{index}.zip", "blob": blobs.put(clean, keys=keys)})


def _keep_portal_evidence(app: AppContext, prepared: _Prepared, error: BaseException) -> None:
    """What a PortalChanged saw (URL, awaited screens, rejected candidates, ARIA snapshot), encrypted."""
    evidence = getattr(error, "evidence", None)
    if not isinstance(error, PortalChanged) or not evidence:
        return
    text = json.dumps(evidence, ensure_ascii=False, indent=2)
    for secret in (prepared.request.portal_password,):
        text = text.replace(secret, "[REDACTED]")
    blobs = blob_store(app)
    prepared.artifacts.append({"kind": "portal_evidence", "name": "portal-evidence.json",
                               "blob": blobs.put(text.encode(), keys=app.keys())})


def _record_step(app: AppContext, attempt_id: int, step: str) -> None:
    with session_scope(app.engine) as session:
        attempt = session.get(AdhesionAttempt, attempt_id)
        if attempt is not None:
            attempt.step_reached = step
            session.add(attempt)


def _status_of(error: FlowError) -> AdhesionStatus:
    for family, status in STATE_OF_ERROR:
        if isinstance(error, family):
            return status
    return AdhesionStatus.PORTAL_CHANGED


async def _attempt(app: AppContext, login: _LoginContext, prepared: _Prepared, options: AdhesionOptions,
                   browser_settings: BrowserSettings) -> AdhesionResult | FlowError:
    """One attempt; returns the result or the error it ended with (a bot bug becomes PortalChanged)."""
    try:
        return await _run_attempt(app, login, prepared, options, browser_settings)
    except FlowError as error:
        return error
    except Exception as exc:  # a bug must neither leave the unit `running` nor stop the whole batch
        log.exception("adhesion_attempt_crashed")
        return PortalChanged(f"unexpected {type(exc).__name__} in the bot: {exc}")


async def adhere_unit(app: AppContext, login: _LoginContext, unit_id: int, options: AdhesionOptions,
                      browser_settings: BrowserSettings) -> UnitOutcome:
    """Enrol one unit in its login's context: up to `options.attempts` attempts, retrying only transient failures."""
    prepared = _prepare(app, unit_id)
    if isinstance(prepared, UnitOutcome):
        return prepared
    with structlog.contextvars.bound_contextvars(unit_id=prepared.unit_id):
        for number in range(1, options.attempts + 1):
            with session_scope(app.engine) as session:
                unit = get_unit(session=session, ref=prepared.unit_id)
                prepared.attempt_id = start_attempt(session=session, unit=unit).id or 0
            prepared.artifacts = []
            with structlog.contextvars.bound_contextvars(attempt_id=prepared.attempt_id):
                log.info("adhesion_attempt_started", attempt=number)
                result = await _attempt(app, login, prepared, options, browser_settings)
                if isinstance(result, AdhesionResult):
                    message = ("enrolled in Conta Digital; bills go to the unit's inbox"
                               + (f" ({', '.join(result.changes)})" if result.changes else " (already enrolled)"))
                    log.info("adhesion_attempt_finished", status="enrolled", changes=list(result.changes),
                             submissions=result.submissions)
                    return _close(app, prepared, AdhesionStatus.ENROLLED, message, result.steps[-1], number,
                                  browser_settings.retention_days, result=result)
                status = _status_of(result)
                log.warning("adhesion_attempt_failed", status=status.value, step=result.step, reason=str(result))
                outcome = _close(app, prepared, status, f"{result} — {result.user_message}", result.step, number,
                                 browser_settings.retention_days)
                if isinstance(result, LoginRejected | ChallengeRequired) and prepared.storage_state:
                    with session_scope(app.engine) as session:
                        forget_browser_state(session=session, scope=prepared.scope)
                if not result.transient or number == options.attempts:
                    return outcome
            await asyncio.sleep(options.backoff_s * number)  # backoff between attempts
    raise AssertionError("unreachable: the last attempt always returns")


def _close(app: AppContext, prepared: _Prepared, status: AdhesionStatus, message: str, step: str | None,
           attempt_number: int, retention_days: int, result: AdhesionResult | None = None) -> UnitOutcome:
    with session_scope(app.engine) as session:
        unit = get_unit(session=session, ref=prepared.unit_id)
        attempt = session.get(AdhesionAttempt, prepared.attempt_id)
        assert attempt is not None  # noqa: S101 - created by this run
        finish_attempt(session=session, attempt=attempt, unit=unit, status=status, message=message, step=step,
                       changes=list(result.changes) if result else None,
                       evidence=result.evidence if result else None,
                       submissions=result.submissions if result else 0, artifacts=prepared.artifacts,
                       retention_days=retention_days)
        final = AdhesionStatus(unit.adhesion_status)
    return UnitOutcome(prepared.unit_id, final, message, attempts=attempt_number,
                       submissions=result.submissions if result else 0,
                       changes=tuple(result.changes) if result else ())


async def adhere_units(app: AppContext, unit_ids: list[int], options: AdhesionOptions,
                       on_done: Callable[[UnitOutcome], None] | None = None,
                       should_stop: Callable[[], bool] = lambda: False) -> list[UnitOutcome]:
    """Enrol several units with one browser and `options.concurrency` contexts at a time.

    Units of the same portal login run one after the other (no two sessions of a login racing each
    other); among them, only units with the same integrator and password share a context. Different
    logins never share a context. Outcomes come
    back in the order of `unit_ids`. Once `should_stop()` is true, units not yet started are left alone
    (they are not in the result).
    """
    browser_settings = BrowserSettings.load(app.settings.playwright_config)
    with run_folder(app.settings.data_dir) as folder:
        async with contextlib.AsyncExitStack() as stack:
            async with driver_tmpdir(folder):
                playwright = await stack.enter_async_context(async_playwright())
            return await _adhere_with(app, playwright, folder, unit_ids, options, browser_settings, on_done,
                                      should_stop)


async def _adhere_with(app: AppContext, playwright: Playwright, folder: Path, unit_ids: list[int],
                       options: AdhesionOptions, browser_settings: BrowserSettings,
                       on_done: Callable[[UnitOutcome], None] | None,
                       should_stop: Callable[[], bool]) -> list[UnitOutcome]:
    """adhere_units' work once the driver runs: one browser, a context per login, `concurrency` at a time."""
    semaphore = asyncio.Semaphore(max(1, options.concurrency))
    outcomes: dict[int, UnitOutcome] = {}
    browser = await playwright.chromium.launch(**browser_settings.launch_options(
        headless=False if options.headed else None))
    try:
        async def one_login(ids: list[int]) -> None:
            async with semaphore:
                login = _LoginContext(browser, browser_settings, options, folder)
                try:
                    for unit_id in ids:
                        if should_stop():
                            return
                        outcome = await adhere_unit(app, login, unit_id, options, browser_settings)
                        outcomes[unit_id] = outcome
                        if on_done is not None:
                            on_done(outcome)
                finally:
                    await login.close()  # the next scope of this login (if any) opens its own

        await asyncio.gather(*(one_login(ids) for ids in _by_login(app, unit_ids)))
        return [outcomes[unit_id] for unit_id in dict.fromkeys(unit_ids) if unit_id in outcomes]
    finally:
        await browser.close()


def _by_login(app: AppContext, unit_ids: list[int]) -> list[list[int]]:
    """The units grouped by (utility, portal login), groups and units in the order given; duplicates dropped.

    Within a group, the units of one credential scope (integrator + password) come together, so a
    context is reused only inside a scope (`_LoginContext.open` closes it between scopes).
    """
    groups: dict[tuple[str, str], dict[str, list[int]]] = {}
    keys = app.keys()
    with session_scope(app.engine) as session:
        for unit_id in dict.fromkeys(unit_ids):
            try:
                unit = get_unit(session=session, ref=unit_id)
                password = portal_password(session=session, unit=unit, keys=keys)
            except Exception:  # noqa: BLE001 - adhere_unit reports it the same way as before grouping
                groups[("", f"unit:{unit_id}")] = {"": [unit_id]}
                continue
            if not unit.portal_login or not password:
                groups[("", f"unit:{unit_id}")] = {"": [unit_id]}
                continue
            scope = credential_scope(keys=keys, utility=unit.utility, integrator_id=unit.integrator_id,
                                     portal_login=unit.portal_login, password=password)
            groups.setdefault((unit.utility, unit.portal_login), {}).setdefault(scope.key, []).append(unit_id)
    return [[unit_id for ids in scopes.values() for unit_id in ids] for scopes in groups.values()]
