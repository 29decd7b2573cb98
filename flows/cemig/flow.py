"""CEMIG's adhesion flow: set the access e-mail to the unit's inbox, then enrol in Conta Digital.

The journey is screens and intents (flows.cemig.screens, flows.cemig.intents), not a list of clicks:
every step acts, then waits for whichever recognised screen comes next. Each step first reads the
portal's state and acts only when needed, so a rerun (after a 503, a timeout or an expired session)
resumes where the last one stopped and never submits an adhesion twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import structlog
from playwright.async_api import BrowserContext, expect
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from flows.base import AdhesionRequest, AdhesionResult, ChallengePolicy, StepHook, UtilityFlow
from flows.cemig import captcha, intents
from flows.cemig.screens import RECOGNISERS, Screen, Screens, interstitial
from flows.errors import ChallengeRequired, FlowError, PortalUnavailable

log = structlog.get_logger(__name__)
T = TypeVar("T")
MAX_EMAIL_FIXES = 2


@dataclass
class _Progress:
    """What survives restarts inside one attempt."""

    steps: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    submissions: int = 0
    login: str | None = None
    """The login to use from now on, when changing the access e-mail changed it."""
    home_path: str | None = None
    conta_digital_path: str | None = None
    """Where "Conta Digital" was recognised, once seen: read-backs reopen it directly."""


class CemigFlow(UtilityFlow):
    """CEMIG Agência Virtual: legacy AGV, the new portal, and what they may become."""

    utility = "cemig"
    supports_saved_session = True
    supports_solver = True

    async def adhere(self, context: BrowserContext, request: AdhesionRequest, *, challenge: ChallengePolicy,
                     on_step: StepHook | None = None, around_login: Any = None) -> AdhesionResult:
        """Enrol `request`'s installation in Conta Digital with bills sent to `request.target_email`.

        Raises LoginRejected, ChallengeRequired, InstallationNotFound, PortalChanged (with `.evidence`), or
        PortalUnavailable once `self.retry.max_restarts` restarts have not helped. `around_login` is an
        async context manager factory wrapped around typing the password (the bot pauses tracing there).
        """
        page = context.pages[0] if context.pages else await context.new_page()
        page.set_default_navigation_timeout(self.navigation_timeout_ms)
        page.set_default_timeout(self.action_timeout_ms)
        screens = Screens(page, timeout_s=self.action_timeout_ms / 1000, secrets=(request.portal_password,),
                          on_screen=self.on_screen)
        self.screens = screens
        progress = _Progress()
        # The handler only asks "is any interstitial showing?": the first match answers it (several may show).
        overlay = interstitial(page).first

        async def close_overlay() -> None:
            # An interstitial may pop up at any moment (a survey a second after the page settled): Playwright
            # runs this before any action or web-first assertion. Several may be stacked: Playwright waits
            # for `overlay` to be hidden after this returns, so close them all.
            with contextlib.suppress(FlowError, PlaywrightError):
                for _ in range(intents.MAX_INTERSTITIALS):
                    if not await interstitial(page).filter(visible=True).count():
                        break
                    await intents.close_interstitials(screens, step="interstitial", direct=True)

        await page.add_locator_handler(overlay, close_overlay)
        screens.overlay_handled = True
        try:
            for restart in range(self.retry.max_restarts + 1):
                try:
                    return await self._walk(screens, request, challenge, progress, on_step, around_login)
                except PortalUnavailable as exc:
                    if restart >= self.retry.max_restarts:
                        raise
                    delay = self.retry.backoff_s[min(restart, len(self.retry.backoff_s) - 1)]
                    log.warning("adhesion_step_retried", step=exc.step, reason=str(exc), restart=restart + 1,
                                delay_s=delay)
                    await asyncio.sleep(delay)  # backoff between restarts, not a wait for the page
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            screens.detach()
            with contextlib.suppress(PlaywrightError):
                await page.remove_locator_handler(overlay)

    async def _step(self, name: str, progress: _Progress, on_step: StepHook | None,
                    action: Callable[[], Awaitable[T]]) -> T:
        """Run one step, translating Playwright's failures into the error families of flows.errors."""
        progress.steps.append(name)
        if on_step is not None:
            result = on_step(name)
            if asyncio.iscoroutine(result):
                await result
        try:
            return await action()
        except FlowError:
            raise
        except AssertionError as exc:
            raise await self.screens.changed(name, f"the page did not show what was expected ({_first_line(exc)})") \
                from exc
        except PlaywrightTimeout as exc:
            if "waiting for" in str(exc) and "navigat" not in str(exc):
                raise await self.screens.changed(name, f"an expected element never appeared ({_first_line(exc)})") \
                    from exc
            raise PortalUnavailable(f"{name}: the portal did not answer in time", step=name) from exc
        except PlaywrightError as exc:
            text = str(exc)
            if "net::" in text or "Target page, context or browser has been closed" in text:
                raise PortalUnavailable(f"{name}: network failure ({_first_line(exc)})", step=name) from exc
            raise await self.screens.changed(name, _first_line(exc)) from exc

    async def _goto(self, path: str, step: str) -> None:
        try:
            response = await self.screens.page.goto(self.base_url + path, wait_until="domcontentloaded")
        except (PlaywrightTimeout, PlaywrightError) as exc:
            raise PortalUnavailable(f"could not open {path} at {step}: {type(exc).__name__}", step=step) from exc
        if response is not None:
            self.screens.last_status = response.status

    async def _walk(self, screens: Screens, request: AdhesionRequest, challenge: ChallengePolicy,
                    progress: _Progress, on_step: StepHook | None, around_login: Any) -> AdhesionResult:
        code = request.installation or request.uc_code or ""
        target = request.target_email.lower()

        async def open_portal() -> Screen:
            await self._goto(progress.home_path or "/Home", "open_portal")
            return (await intents.settle(screens, {Screen.LOGIN, Screen.CAPTCHA, Screen.HOME},
                                         step="open_portal")).screen

        where = await self._step("open_portal", progress, on_step, open_portal)
        if where != Screen.HOME:
            await self._step("login", progress, on_step, lambda: self._log_in(
                screens, progress.login or request.portal_login, request, challenge, around_login))
        if progress.home_path is None and not any(p.search(screens.page.url) for p in RECOGNISERS[Screen.LOGIN].paths):
            progress.home_path = _path_of(screens.page.url)

        async def select() -> None:
            if not await intents.shows_installation(screens, code):
                await intents.select_installation(screens, code)
                if not await intents.shows_installation(screens, code):
                    raise await screens.changed("select_installation", f"installation {code} is not shown after "
                                                                       "selecting it")
            if progress.conta_digital_path is None:
                # Where "Conta digital" leads, read while the home page is on screen: opening it later then
                # costs one page load instead of two (home, then the link).
                progress.conta_digital_path = await intents.conta_digital_href(screens)

        await self._step("select_installation", progress, on_step, select)

        for _ in range(MAX_EMAIL_FIXES):
            await self._ensure_access_email(screens, request, target, progress, on_step, around_login,
                                            challenge.email_confirmation)
            state = await self._step("conta_digital", progress, on_step,
                                     lambda: self._open_conta_digital(screens, code, progress))
            if state == Screen.CONTA_ENROLLED:
                bills_to = await intents.read_where_bills_go(screens)
                if bills_to is None or intents.address_matches(bills_to, target):
                    if progress.submissions:  # submitted before a restart: this run did enrol it
                        progress.changes.append("enrolled")
                    return self._result(progress, await _evidence(screens))
                # Enrolled, but bills go elsewhere: the access e-mail drives Conta Digital; fix it and look again.
                log.info("adhesion_enrolled_elsewhere", bills_to_domain=bills_to.rpartition("@")[2])
                continue
            if progress.submissions:
                # An error after the confirming click does not say whether the portal took it (it may have
                # recorded it, then failed): never a second submission, a person decides.
                raise await screens.changed("confirm_adhesion", "Conta Digital still offers the adhesion after one "
                                                                "was submitted: not submitting it twice")

            def submitted() -> None:
                progress.submissions += 1

            evidence = await self._step("confirm_adhesion", progress, on_step,
                                        lambda: intents.accept_terms(screens, on_submit=submitted))
            progress.changes.append("enrolled")
            state = await self._step("verify_enrolled", progress, on_step,
                                     lambda: self._open_conta_digital(screens, code, progress))
            bills_to = await intents.read_where_bills_go(screens) if state == Screen.CONTA_ENROLLED else None
            if state != Screen.CONTA_ENROLLED or (bills_to is not None and not intents.address_matches(bills_to,
                                                                                                      target)):
                raise await screens.changed("verify_enrolled", "after confirming, Conta Digital does not show the "
                                                               "enrolment with our address")
            return self._result(progress, evidence)
        raise await screens.changed("conta_digital", "Conta Digital keeps sending bills to another address after "
                                                     "the e-mail was fixed")

    async def _log_in(self, screens: Screens, identifier: str, request: AdhesionRequest,
                      challenge: ChallengePolicy, around_login: Any) -> None:
        page = screens.page
        operator = False
        shown = await captcha.kind(screens)
        if shown == "image":
            await captcha.log_in_with_image(screens, identifier, request.portal_password, challenge,
                                            lambda: _as_async(around_login() if around_login is not None
                                                              else contextlib.nullcontext()))
            return
        # reCAPTCHA's widget and response field have no accessible names: their documented markup (§2.1).
        widget = page.locator(".g-recaptcha[data-sitekey]")
        response_field = page.locator("#g-recaptcha-response")
        if shown == "recaptcha":
            site_key = await widget.get_attribute("data-sitekey") if await widget.count() else None
            if challenge.solver is not None and site_key:
                token = await challenge.solver(site_key, page.url)
                await response_field.evaluate("(el, token) => { el.value = token; }", token)
            elif challenge.operator_wait_s > 0:
                operator = True
            else:
                raise ChallengeRequired("the login asks for a captcha and no strategy is available "
                                        "(no valid saved session, not --headed, no solver configured)",
                                        step="login", site_key=site_key, page_url=page.url)
        guard = around_login() if around_login is not None else contextlib.nullcontext()
        async with _as_async(guard):
            await intents.log_in(screens, identifier, request.portal_password)
            if operator:
                try:
                    await expect(response_field).not_to_have_value("", timeout=challenge.operator_wait_s * 1000)
                except AssertionError:
                    raise ChallengeRequired(f"nobody solved the captcha within {challenge.operator_wait_s:.0f} s",
                                            step="login") from None
                if not await intents.fields_filled(screens):  # reloaded meanwhile: type again, keep the token
                    await intents.log_in(screens, identifier, request.portal_password)
            await intents.submit_login(screens)

    async def _ensure_access_email(self, screens: Screens, request: AdhesionRequest, target: str,
                                   progress: _Progress, on_step: StepHook | None, around_login: Any = None,
                                   confirm_by_email: intents.ConfirmByEmail = None) -> None:
        login_in_use = progress.login or request.portal_login
        guard = (lambda: _as_async(around_login())) if around_login is not None else None

        async def save() -> tuple[str, str | None]:
            await intents.open_access_data(screens, holder_name=request.holder_name)
            return await intents.set_access_email(screens, target, password=request.portal_password,
                                                  secret_guard=guard, confirm_by_email=confirm_by_email)

        before, confirmation = await self._step("access_data", progress, on_step, save)
        if confirmation is None:
            return
        progress.changes.append("email_set")
        if "@" in login_in_use and before.lower() == login_in_use.lower():
            # The portal logs in with the access e-mail: from now on the login is the new address.
            progress.login = target
        if _names_address(confirmation, target):
            return  # the portal's answer names the address it now holds

        async def verify() -> None:
            await self._go_home(screens, progress, "verify_email")
            await intents.open_access_data(screens, holder_name=request.holder_name, step="verify_email")
            if (await intents.read_access_email(screens, step="verify_email")).lower() != target:
                raise await screens.changed("verify_email", "the access e-mail read back differs from the one saved")

        await self._step("verify_email", progress, on_step, verify)

    async def _go_home(self, screens: Screens, progress: _Progress, step: str) -> None:
        await self._goto(progress.home_path or "/Home", step)
        await intents.settle(screens, {Screen.HOME}, step=step)

    async def _open_conta_digital(self, screens: Screens, code: str, progress: _Progress) -> Screen:
        if progress.conta_digital_path is not None:
            # Known from an earlier visit in this attempt: reopen it directly, a fresh read of the state.
            await self._goto(progress.conta_digital_path, "conta_digital")
            seen = await intents.settle(screens, {Screen.CONTA_ENROLLED, Screen.CONTA_NOT_ENROLLED, Screen.HOME},
                                        step="conta_digital")
            if seen.screen == Screen.HOME:  # the address does not open it by itself (a client-side route)
                seen = await intents.open_conta_digital(screens)
        else:
            await self._go_home(screens, progress, "conta_digital")
            seen = await intents.open_conta_digital(screens)
            progress.conta_digital_path = _path_of(screens.page.url)
        await self._check_installation(screens, code)
        return seen.screen

    async def _check_installation(self, screens: Screens, code: str) -> None:
        """When Conta Digital shows installation numbers, ours must be among them (the selection took)."""
        page = screens.page
        numbers = page.get_by_text(re.compile(r"(?<!\d)(3\d{9}|\d{15})(?!\d)")).filter(visible=True)
        if await numbers.count() and not await page.get_by_text(intents._code_regex(code)).filter(  # noqa: SLF001
                visible=True).count():
            raise await screens.changed("conta_digital", f"Conta Digital is not showing installation {code}")

    @staticmethod
    def _result(progress: _Progress, evidence: str) -> AdhesionResult:
        return AdhesionResult(state="enrolled", changes=tuple(dict.fromkeys(progress.changes)), evidence=evidence,
                              submissions=progress.submissions, steps=tuple(progress.steps),
                              new_portal_login=progress.login)


async def _evidence(screens: Screens) -> str:
    return await intents._confirmation_text(screens)  # noqa: SLF001


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _names_address(text: str, address: str) -> bool:
    """Whether `text` shows `address` as a whole address (not inside a longer one)."""
    return re.search(rf"(?<![\w.+-]){re.escape(address)}(?!\.?[\w-])", text, re.IGNORECASE) is not None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


@contextlib.asynccontextmanager
async def _as_async(manager: Any):  # noqa: ANN202 - sync or async context manager
    if hasattr(manager, "__aenter__"):
        async with manager as value:
            yield value
    else:
        with manager as value:
            yield value
