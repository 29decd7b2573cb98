"""CEMIG's adhesion flow: set the access e-mail to the unit's inbox, then enrol in Conta Digital.

Every step first reads the portal's state and acts only when needed, so a rerun (after a 503, a timeout
or an expired session) resumes where the last one stopped and never submits an adhesion twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from playwright.async_api import BrowserContext
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from flows.base import AdhesionRequest, AdhesionResult, ChallengePolicy, StepHook, UtilityFlow
from flows.cemig.pages import (
    AccessDataPage,
    ContaDigitalPage,
    CookieBanner,
    HomePage,
    InstallationsPage,
    LoginPage,
    Portal,
)
from flows.errors import ChallengeRequired, FlowError, PortalChanged, PortalUnavailable

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
    conta_digital_path: str | None = None
    """Where the services bar's "Conta Digital" led, once seen: read-backs reload it directly."""


class CemigFlow(UtilityFlow):
    """CEMIG Agência Virtual (legacy AGV and the new portal share the visible texts this relies on)."""

    utility = "cemig"
    supports_saved_session = True
    supports_solver = True

    async def adhere(self, context: BrowserContext, request: AdhesionRequest, *, challenge: ChallengePolicy,
                     on_step: StepHook | None = None, around_login: Any = None) -> AdhesionResult:
        """Enrol `request`'s installation in Conta Digital with bills sent to `request.target_email`.

        Raises LoginRejected, ChallengeRequired, InstallationNotFound, PortalChanged, or PortalUnavailable
        once `self.retry.max_restarts` restarts have not helped. `around_login` is an async context
        manager factory wrapped around typing the password (the bot pauses tracing there).
        """
        page = context.pages[0] if context.pages else await context.new_page()
        page.set_default_navigation_timeout(self.navigation_timeout_ms)
        portal = Portal(page, self.base_url, self.action_timeout_ms)
        progress = _Progress()
        try:
            for restart in range(self.retry.max_restarts + 1):
                try:
                    return await self._walk(portal, request, challenge, progress, on_step, around_login)
                except PortalUnavailable as exc:
                    if restart >= self.retry.max_restarts:
                        raise
                    delay = self.retry.backoff_s[min(restart, len(self.retry.backoff_s) - 1)]
                    log.warning("adhesion_step_retried", step=exc.step, reason=str(exc), restart=restart + 1,
                                delay_s=delay)
                    await asyncio.sleep(delay)  # backoff between restarts, not a wait for the page
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            portal.detach()

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
            raise PortalChanged(f"{name}: the page did not show what was expected ({_first_line(exc)})",
                                step=name) from exc
        except PlaywrightTimeout as exc:
            if "waiting for" in str(exc) and "navigat" not in str(exc):
                raise PortalChanged(f"{name}: an expected element never appeared ({_first_line(exc)})",
                                    step=name) from exc
            raise PortalUnavailable(f"{name}: the portal did not answer in time", step=name) from exc
        except PlaywrightError as exc:
            text = str(exc)
            if "net::" in text or "Target page, context or browser has been closed" in text:
                raise PortalUnavailable(f"{name}: network failure ({_first_line(exc)})", step=name) from exc
            raise PortalChanged(f"{name}: {_first_line(exc)}", step=name) from exc

    async def _walk(self, portal: Portal, request: AdhesionRequest, challenge: ChallengePolicy,
                    progress: _Progress, on_step: StepHook | None, around_login: Any) -> AdhesionResult:
        home = HomePage(portal)
        code = request.installation or request.uc_code or ""
        target = request.target_email.lower()

        await self._step("open_portal", progress, on_step, lambda: portal.goto("/Home", "open_portal"))
        await self._step("cookie_banner", progress, on_step, CookieBanner(portal).dismiss)
        login = LoginPage(portal)
        if await login.is_open():
            await self._step("login", progress, on_step,
                             lambda: self._log_in(login, progress.login or request.portal_login, request,
                                                  challenge, around_login))
        if not await home.is_logged_in():
            raise PortalChanged("after login the portal shows neither the home page nor an error", step="login")
        await self._step("post_login_dialog", progress, on_step, home.close_dialogs)

        async def select() -> None:
            if not await home.shows_installation(code):
                installations = InstallationsPage(portal)
                await installations.open()
                await installations.select(code)
            if progress.conta_digital_path is None:
                # Note where "Conta Digital" leads while the home page is on screen: opening it later
                # then costs one page load instead of two (home, then the link).
                progress.conta_digital_path = await home.conta_digital_path()

        await self._step("select_installation", progress, on_step, select)

        for _ in range(MAX_EMAIL_FIXES):
            await self._ensure_access_email(home, target, progress.login or request.portal_login, progress, on_step)
            conta = await self._step("conta_digital", progress, on_step,
                                     lambda: self._open_conta_digital(home, code, progress))
            enrolled, bills_to, text = await conta.enrolment()
            if enrolled and bills_to and bills_to.lower() == target:
                return self._result(progress, text)
            if enrolled:
                # Enrolled, but bills go elsewhere: the access e-mail drives Conta Digital; fix it and look again.
                log.info("adhesion_enrolled_elsewhere", bills_to_domain=(bills_to or "").rpartition("@")[2])
                continue
            evidence = await self._step("confirm_adhesion", progress, on_step, conta.enrol)
            progress.submissions += 1
            progress.changes.append("enrolled")
            conta = await self._step("verify_enrolled", progress, on_step,
                                     lambda: self._open_conta_digital(home, code, progress))
            enrolled, bills_to, _ = await conta.enrolment()
            if not enrolled or (bills_to or "").lower() != target:
                raise PortalChanged("after confirming, Conta Digital does not show the enrolment with our address",
                                    step="verify_enrolled")
            return self._result(progress, evidence)
        raise PortalChanged("Conta Digital keeps sending bills to another address after the e-mail was fixed",
                            step="conta_digital")

    async def _log_in(self, login: LoginPage, identifier: str, request: AdhesionRequest,
                      challenge: ChallengePolicy, around_login: Any) -> None:
        operator = False
        if await login.has_challenge():
            site_key = await login.site_key()
            if challenge.solver is not None and site_key:
                token = await challenge.solver(site_key, login.page.url)
                await login.set_challenge_token(token)
            elif challenge.operator_wait_s > 0:
                operator = True
            else:
                raise ChallengeRequired("the login asks for a captcha and no strategy is available "
                                        "(no valid saved session, not --headed, no solver configured)",
                                        step="login", site_key=site_key, page_url=login.page.url)
        guard = around_login() if around_login is not None else contextlib.nullcontext()
        async with _as_async(guard):
            await login.fill(identifier, request.portal_password)
            if operator:
                if not await login.wait_for_operator(challenge.operator_wait_s):
                    raise ChallengeRequired(f"nobody solved the captcha within {challenge.operator_wait_s:.0f} s",
                                            step="login")
                if not await login.is_filled():  # the page was reloaded meanwhile: type again, keep the token
                    await login.fill(identifier, request.portal_password)
            await login.submit()

    async def _ensure_access_email(self, home: HomePage, target: str, login_in_use: str, progress: _Progress,
                                   on_step: StepHook | None) -> None:
        access: AccessDataPage = await self._step("access_data", progress, on_step, home.open_access_data)
        current = (await access.email()).lower()
        if current == target:
            return
        confirmation: str = await self._step("save_email", progress, on_step, lambda: access.save_email(target))
        progress.changes.append("email_set")
        if "@" in login_in_use and current == login_in_use.lower():
            # The portal logs in with the access e-mail: from now on the login is the new address.
            progress.login = target
        if _names_address(confirmation, target):
            # The portal's answer to the save names the address it now holds: that is the verification
            # (Conta Digital, read back at the end, shows the same address as where bills go). A
            # confirmation that does not name it is checked by opening the form again.
            return
        check: AccessDataPage = await self._step("verify_email", progress, on_step, home.open_access_data)
        if (await check.email()).lower() != target:
            raise PortalChanged("the access e-mail read back differs from the one saved", step="verify_email")

    async def _open_conta_digital(self, home: HomePage, code: str, progress: _Progress) -> ContaDigitalPage:
        if progress.conta_digital_path is None:
            await home.open()
            conta = await home.open_conta_digital()
            progress.conta_digital_path = home.portal.path()
        else:
            # Known from the services bar's link (or an earlier visit in this attempt): open it directly,
            # a fresh read of the portal's state without loading the home page first.
            conta = await ContaDigitalPage.reopen(home.portal, progress.conta_digital_path)
        if not await conta.shows_installation(code):
            raise PortalChanged(f"Conta Digital is not showing installation {code}", step="conta_digital")
        return conta

    @staticmethod
    def _result(progress: _Progress, evidence: str) -> AdhesionResult:
        return AdhesionResult(state="enrolled", changes=tuple(dict.fromkeys(progress.changes)), evidence=evidence,
                              submissions=progress.submissions, steps=tuple(progress.steps),
                              new_portal_login=progress.login)


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
