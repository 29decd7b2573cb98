"""The contract every utility's adhesion flow fulfils, and the registry of flows.

A flow takes plain inputs (an `AdhesionRequest`) and a Playwright `BrowserContext` the caller owns,
walks the portal, and returns an `AdhesionResult` or raises one of `flows.errors`. Flows never touch
the database: saving the browser session, artifacts and states is the bot's job.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from playwright.async_api import BrowserContext


@dataclass(frozen=True)
class AdhesionRequest:
    """What the bot knows about one unit when it asks a flow to enrol it."""

    portal_login: str
    portal_password: str = field(repr=False)
    installation: str | None
    uc_code: str | None
    target_email: str
    holder_name: str | None = None
    """The client's name as the unit records it: the portal's user menu is labelled with it (reference §4)."""

    def __post_init__(self) -> None:
        if not self.installation and not self.uc_code:
            raise ValueError("an adhesion needs the installation number or the UC code")


@dataclass(frozen=True)
class AdhesionResult:
    """How a flow ended: the state reached, what it changed, and evidence read back from the portal."""

    state: str
    """`enrolled` (confirmed by the portal with our address)."""
    changes: tuple[str, ...]
    """What this run changed: `email_set`, `enrolled` (empty when everything was already right)."""
    evidence: str
    """Text read back from the portal proving the state, e.g. the confirmation message."""
    submissions: int
    """How many adhesion forms this run submitted (0 when already enrolled)."""
    steps: tuple[str, ...]
    new_portal_login: str | None = None
    """Set when the portal login was the old access e-mail: the portal now takes the new one."""


@dataclass(frozen=True)
class ChallengePolicy:
    """How the login's captcha may be passed, in order: saved session (by the caller), solver, operator.

    The captcha is reCAPTCHA v2 (a token) or, on some logins, an image of characters to type (reference §2.1).
    """

    operator_wait_s: float = 0.0
    """When > 0 the browser is visible and the flow waits this long for a person to solve it."""
    solver: Callable[[str, str], Awaitable[str]] | None = None
    """Takes (site_key, page_url) and returns a token; None when no solver is configured."""
    image_solver: Callable[[bytes], Awaitable[str]] | None = None
    """Takes an image captcha's bytes and returns the characters it shows; None when none is configured."""
    image_rejected: Callable[[str], Awaitable[None]] | None = None
    """Told each answer of `image_solver` the portal refused (a 2Captcha client reports it as bad)."""
    image_attempts: int = 3
    """How many images (a fresh one after each refusal) the login tries before ending in CaptchaRefused."""
    email_confirmation: Callable[[str, datetime, str], Awaitable[str | None]] | None = None
    """When the portal confirms a new access e-mail by a code or link sent to it: takes (the address, the
    moment the change was asked for, the portal's host) and returns the code or the link read from that
    inbox, or None when none came in time. None: such a portal ends in PortalChanged."""


@dataclass(frozen=True)
class RetryPolicy:
    """Retries inside one attempt, for transient portal failures (timeouts, 5xx, expired session)."""

    max_restarts: int = 3
    backoff_s: tuple[float, ...] = (1.0, 3.0, 8.0)


StepHook = Callable[[str], Awaitable[None] | None]
ScreenHook = Callable[[str, str, Callable[[], Awaitable[str]]], Awaitable[None]]
"""(screen name, URL, a function returning the page's ARIA snapshot with the password removed)."""


class UtilityFlow(abc.ABC):
    """One utility's portal automation.

    Capabilities are class attributes with safe defaults, so the bot can tell what a flow supports.
    `adhere` raises only `flows.errors` exceptions (LoginRejected, ChallengeRequired, InstallationNotFound,
    PortalUnavailable, PortalChanged); transient ones have already been retried `retry.max_restarts` times.
    """

    utility: str = ""
    supports_saved_session: bool = False
    supports_solver: bool = False

    def __init__(self, *, base_url: str, action_timeout_ms: int = 15_000, navigation_timeout_ms: int = 30_000,
                 retry: RetryPolicy | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.action_timeout_ms = action_timeout_ms
        self.navigation_timeout_ms = navigation_timeout_ms
        self.retry = retry or RetryPolicy()
        self.on_screen: ScreenHook | None = None
        """Called with each screen the flow recognises (supervised capture, bot.capture); None: nothing."""

    @abc.abstractmethod
    async def adhere(self, context: BrowserContext, request: AdhesionRequest, *, challenge: ChallengePolicy,
                     on_step: StepHook | None = None, around_login: Any = None) -> AdhesionResult:
        """Enrol the unit's installation in e-mail bills sent to `request.target_email`."""
