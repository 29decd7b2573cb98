"""Recognising CEMIG's screens: several independent signals per screen, raced against one deadline.

Each `Recogniser` lists signals (texts in any role, field labels and placeholders, button and link names)
any one of which is enough, URL paths that count once the page has stopped loading, and negatives (what
would make it another screen). `Screens.observe(expected, …)` waits, web-first, for whichever expected
screen shows next, including changes inside the same document (a dialog, a client-side route, a toast);
it keeps waiting while the page is loading and ends in `PortalChanged` with evidence at the deadline.
Error pages, session expiry and interstitials are always raced, whatever the step expects.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import reduce

import structlog
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, Response, expect

from flows.base import ScreenHook
from flows.cemig.vocabulary import fold, pattern
from flows.errors import PortalChanged

log = structlog.get_logger(__name__)

SLICE_S = 0.5
"""How long one web-first wait runs before URL paths and loading indicators are looked at again."""
LOADING_GRACE_S = 20.0
"""How much longer than its deadline a step keeps waiting while the page says it is still loading."""


class Screen(StrEnum):
    """The screens of the adhesion journey."""

    SESSION_EXPIRED = "session_expired"
    ERROR = "error"
    LOGIN_REJECTED = "login_rejected"
    INTERSTITIAL = "interstitial"
    CONFIRMATION = "confirmation"
    IDENTITY_PROMPT = "identity_prompt"
    EMAIL_CODE = "email_code"
    EMAIL_LINK = "email_link"
    EMAIL_SAVED = "email_saved"
    TERMS = "terms"
    CONTA_ENROLLED = "conta_digital_enrolled"
    CONTA_NOT_ENROLLED = "conta_digital_not_enrolled"
    ACCESS_DATA = "access_data_form"
    INSTALLATIONS = "installation_list"
    CAPTCHA = "captcha"
    LOGIN = "login_form"
    HOME = "logged_in_home"


PRIORITY = tuple(Screen)
"""When several screens show at once, the first in this order is the one on screen (a dialog over the
home page is an interstitial; the terms over Conta Digital are the terms)."""
ALWAYS = frozenset({Screen.SESSION_EXPIRED, Screen.ERROR, Screen.INTERSTITIAL})
WEAK = frozenset({Screen.HOME})
"""Screens whose signals (the header, the services grid) also show around other screens: they count only
once the page has stopped loading: a page whose main content is still "Carregando…" is not yet the screen
its header suggests, however long it takes (past the deadline and its grace, PortalChanged)."""


@dataclass(frozen=True)
class Recogniser:
    """How one screen is recognised: signals (any one enough), URL paths, and negatives."""

    screen: Screen
    signals: Callable[[Page], list[Locator]]
    negatives: Callable[[Page], list[Locator]] = lambda page: []
    paths: tuple[re.Pattern[str], ...] = ()


def _text(page: Page, concept: str) -> Locator:
    return page.get_by_text(pattern(concept))


def _dialogs(page: Page) -> Locator:
    return page.get_by_role("dialog").or_(page.get_by_role("alertdialog"))


def _not_interstitial(page: Page) -> list[str]:
    return ["terms", "done", "enrol", "saved", "enrolled", "access_data", "user_menu_hint"]


def _interstitials(page: Page) -> list[Locator]:
    dialogs = _dialogs(page)
    for concept in _not_interstitial(page):
        dialogs = dialogs.filter(has_not_text=pattern(concept))
    dialogs = dialogs.filter(has_not=page.get_by_role("checkbox"))
    # A dialog asking for a password is part of a step (confirming a change), never something to close.
    dialogs = dialogs.filter(has_not=password_inputs(page))
    return [
        dialogs,
        # OneTrust's banner has no role of its own: its documented ids are the stable handle (third party).
        page.locator("#onetrust-banner-sdk"),
        page.get_by_role("button", name=pattern("cookie_button")),
    ]


def _password(page: Page) -> Locator:
    return login_password(page)


def password_inputs(page: Page | Locator) -> Locator:
    """Every password input: they have no ARIA role, so their HTML type is the only way to find them all."""
    return page.locator("input[type=password]")


def login_password(page: Page) -> Locator:
    """The login's password field: labelled (or placeholdered) like a password *and* a real password input.

    The label alone is not enough: `get_by_label` also finds controls whose aria-label carries the word,
    such as the "Mostrar senha" eye button beside the field or an "Esqueci minha senha" link.
    """
    labelled = page.get_by_label(pattern("password_field")).or_(page.get_by_placeholder(pattern("password_field")))
    return labelled.and_(password_inputs(page))


def _email_field(page: Page) -> Locator:
    return page.get_by_role("textbox", name=pattern("email_field")).or_(
        page.get_by_placeholder(pattern("email_field")))


def _path(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


RECOGNISERS: dict[Screen, Recogniser] = {r.screen: r for r in (
    Recogniser(Screen.SESSION_EXPIRED, lambda p: [_text(p, "session_expired")], paths=_path(r"sess[aã]o=expirada")),
    Recogniser(Screen.ERROR, lambda p: [p.get_by_role("heading", name=pattern("unavailable")),
                                        p.get_by_role("alert").filter(has_text=pattern("unavailable"))]),
    Recogniser(Screen.LOGIN_REJECTED, lambda p: [
        p.get_by_role("alert").filter(has_text=re.compile(r"\S")),
        _text(p, "login_error"), _text(p, "locked")], negatives=lambda p: [_text(p, "session_expired")]),
    Recogniser(Screen.INTERSTITIAL, _interstitials),
    Recogniser(Screen.CONFIRMATION, lambda p: [_text(p, "done")],
               negatives=lambda p: [p.get_by_role("checkbox", checked=False)]),
    Recogniser(Screen.IDENTITY_PROMPT, lambda p: [_dialogs(p).filter(has=password_inputs(p))]),
    Recogniser(Screen.EMAIL_CODE, lambda p: [_text(p, "confirm_code"), p.get_by_label(pattern("confirm_code"))]),
    Recogniser(Screen.EMAIL_LINK, lambda p: [_text(p, "confirm_link")]),
    Recogniser(Screen.EMAIL_SAVED, lambda p: [_text(p, "saved")]),
    Recogniser(Screen.TERMS, lambda p: [
        p.get_by_role("heading", name=pattern("terms")),
        # The same title in a paragraph instead of a heading: a text that is nothing but the wording.
        p.get_by_role("paragraph").filter(has_text=pattern("terms", whole=True)),
        _dialogs(p).filter(has_text=pattern("terms")),
        p.get_by_role("region", name=pattern("terms")),
        p.get_by_role("checkbox", name=pattern("terms"))],
        negatives=lambda p: [_text(p, "done")]),
    Recogniser(Screen.CONTA_ENROLLED, lambda p: [
        _text(p, "enrolled"), p.get_by_role("button", name=re.compile(r"Cancelar ades|Descadastr", re.I))],
        negatives=lambda p: [p.get_by_role("checkbox", name=pattern("terms"))]),
    Recogniser(Screen.CONTA_NOT_ENROLLED, lambda p: [
        p.get_by_role("button", name=pattern("enrol")).or_(p.get_by_role("link", name=pattern("enrol")))],
        negatives=lambda p: [_text(p, "enrolled"), p.get_by_role("checkbox", name=pattern("terms"))]),
    Recogniser(Screen.ACCESS_DATA, lambda p: [_email_field(p), p.get_by_role("heading", name=pattern("access_data"))],
               negatives=lambda p: [p.get_by_role("button", name=pattern("login_button", whole=True))],
               paths=_path(r"/DadosAcesso", r"/dados-de-acesso", r"/perfil", r"/meus-dados")),
    Recogniser(Screen.INSTALLATIONS, lambda p: [
        p.get_by_role("heading", name=pattern("installations")),
        p.get_by_label(pattern("installation_search")), p.get_by_placeholder(pattern("installation_search"))]),
    Recogniser(Screen.CAPTCHA, lambda p: [
        p.get_by_text(pattern("captcha")),
        # The image variant (§2.1): the image named like a captcha, the field its characters go into.
        p.get_by_role("img", name=pattern("captcha_image")),
        p.get_by_role("textbox", name=pattern("captcha_field")).or_(p.get_by_placeholder(pattern(
            "captcha_field"))).and_(p.locator(":not(input[type=password])")),
        # reCAPTCHA and the image captcha are widgets without accessible names; their documented markup
        # (the Google iframe, div.g-recaptcha, #captchaImg, reference §2.1) is the only handle.
        p.locator("iframe[src*='recaptcha'], .g-recaptcha, #captchaImg")]),
    Recogniser(Screen.LOGIN, lambda p: [_password(p), p.get_by_role("heading", name=pattern("login_heading"))],
               negatives=lambda p: [p.get_by_role("heading", name=pattern("access_data"))],
               paths=_path(r"/login(/index)?/?$", r"/auth/")),
    Recogniser(Screen.HOME, lambda p: [
        p.get_by_role("heading", name=re.compile(r"Servi[cç]os essenciais", re.I)),
        p.get_by_role("link", name=pattern("logged_in")), p.get_by_role("button", name=pattern("logged_in")),
        p.get_by_role("link", name=pattern("conta_digital"))],
        negatives=lambda p: [_password(p)],
        paths=_path(r"/Home(/Index)?/?$", r"/portal/home/?$", r"/inicio/?$")),
)}


def interstitial(page: Page) -> Locator:
    """Anything that may pop up over the journey and must be closed first (for `page.add_locator_handler`)."""
    return reduce(Locator.or_, _interstitials(page))


def loading(page: Page) -> Locator:
    """What says the page is still loading: spinners, "Carregando…", busy regions."""
    return (page.get_by_role("progressbar").or_(page.get_by_text(pattern("loading")))
            # aria-busy is a state without a role, and #divCarregando the legacy AGV's documented spinner
            # (reference §2.1): neither has an accessible name to find it by.
            .or_(page.locator("[aria-busy='true'], #divCarregando"))).filter(visible=True)


@dataclass(frozen=True)
class Observation:
    """What `observe` saw: the screen on top (the first of PRIORITY that matched), and the address."""

    screen: Screen
    seen: frozenset[Screen]
    url: str
    by_address: bool = False
    """Recognised by the URL's path alone: no signal of any expected screen was on the page."""


@dataclass
class Screens:
    """The open tab, what recognising and acting need, and what happened on it."""

    page: Page
    timeout_s: float = 15.0
    last_status: int = 200
    secrets: tuple[str, ...] = ()
    clicked: list[str] = field(default_factory=list)
    """Every control the bot clicked, by name, in order (tests assert nothing destructive is here)."""
    overlay_handled: bool = False
    """Whether a locator handler closes interstitials before each action (see intents.close_interstitials)."""
    on_screen: ScreenHook | None = None
    """Told of every screen `observe` recognises (the supervised capture mode); its failures never stop a flow."""

    def __post_init__(self) -> None:
        self.page.on("response", self._remember_status)

    def _remember_status(self, response: Response) -> None:
        if response.request.resource_type == "document" and response.frame == self.page.main_frame:
            self.last_status = response.status

    def detach(self) -> None:
        """Stop listening to the tab (it may serve the next unit of the same login)."""
        self.page.remove_listener("response", self._remember_status)

    async def observe(self, expected: Iterable[Screen], *, step: str, timeout_s: float | None = None,
                      rejected: Iterable[str] = ()) -> Observation:
        """Wait for whichever of `expected` (or an error, session expiry, interstitial) shows next.

        Raises PortalChanged with evidence (URL, ARIA snapshot, what was awaited) when none shows by the
        deadline; the deadline moves on, up to LOADING_GRACE_S, while the page says it is loading.
        """
        wanted = frozenset(expected) | ALWAYS
        if Screen.LOGIN in wanted:
            wanted -= {Screen.SESSION_EXPIRED}  # the login page may say why it is shown: it is still the login
        screens = [s for s in PRIORITY if s in wanted]
        signals = {s: reduce(Locator.or_, RECOGNISERS[s].signals(self.page)).filter(visible=True) for s in screens}
        negatives = {s: [n.filter(visible=True) for n in RECOGNISERS[s].negatives(self.page)] for s in screens}
        anything = reduce(Locator.or_, signals.values())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout_s if timeout_s is not None else self.timeout_s)
        hard_deadline = deadline + LOADING_GRACE_S
        blocked = [n for s in screens for n in negatives[s]]
        settling = reduce(Locator.or_, [*blocked, loading(self.page)])
        appeared = False
        deferred = False
        while True:
            found = await self._classify(screens, signals, negatives)
            if found is not None and found.by_address and not deferred:
                # An address alone is weak evidence: a page that has not drawn its content yet, or an SPA
                # that shows its login at the home's address, has it too. It counts at the next look, after
                # a slice in which no signal appeared.
                deferred = True
                with contextlib.suppress(AssertionError, PlaywrightError):
                    await expect(anything).not_to_have_count(0, timeout=SLICE_S * 1000)
                continue
            if found is not None:
                await self._tell(found)
                return found
            now = loop.time()
            if now >= deadline:
                if now < hard_deadline and await self._count(loading(self.page)) != 0:  # None: still changing
                    deadline = min(hard_deadline, now + SLICE_S)
                else:
                    raise await self.changed(step, f"none of {sorted(s.value for s in expected)} showed",
                                             waiting_for=[s.value for s in expected], rejected=list(rejected))
            timeout_ms = max(50, min(SLICE_S, deadline - now) * 1000)
            if appeared:
                # Signals showed, yet nothing was recognised: their negatives show too, or the page is still
                # loading. Wait for that to settle one way or the other before looking again.
                appeared = False
                with contextlib.suppress(AssertionError, PlaywrightError):
                    await expect(settling).to_have_count(0, timeout=timeout_ms)
                continue
            try:
                await expect(anything).not_to_have_count(0, timeout=timeout_ms)
                appeared = True
            except (AssertionError, PlaywrightError):  # not yet, or the document changed under the query
                pass

    async def _tell(self, found: Observation) -> None:
        if self.on_screen is None:
            return
        try:
            await self.on_screen(found.screen.value, found.url, self.snapshot)
        except Exception as exc:  # noqa: BLE001 - a capture that fails must not fail the enrolment
            log.warning("screen_capture_failed", screen=found.screen.value, error=type(exc).__name__)

    async def _count(self, locator: Locator) -> int | None:
        """How many elements match; None when the query failed because the document changed under it."""
        try:
            return await locator.count()
        except PlaywrightError:
            return None

    async def _classify(self, screens: list[Screen], signals: dict[Screen, Locator],
                        negatives: dict[Screen, list[Locator]], *, recheck_weak: bool = True) -> Observation | None:
        # One query per screen ("the document holds a visible signal and no visible negative"), all asked
        # at once: one round trip's latency per look instead of one per signal and negative (each call is
        # a hop to the browser, a DOM snapshot when tracing, and a scheduling delay on a loaded machine).
        # The answers are read in PRIORITY order as before.
        root = self.page.locator(":root")
        queries = []
        for screen in screens:
            present = root.filter(has=signals[screen])
            if negatives[screen]:
                present = present.filter(has_not=reduce(Locator.or_, negatives[screen]))
            queries.append(present)
        counts = await asyncio.gather(*(self._count(q) for q in [*queries, loading(self.page)]))
        # A failed query (None) is most often a document being replaced (a navigation committing): what
        # the other queries found still counts, but the address must not decide then (it may already be
        # the next page's, or still the last one's).
        failed = None in counts
        shown = dict(zip(screens, counts, strict=False))
        busy = bool(counts[-1])
        seen: list[Screen] = []
        for screen in screens:
            if screen in WEAK and busy:
                continue
            if (screen == Screen.ERROR and self.last_status >= 500) or shown[screen]:
                seen.append(screen)
                break  # the first in PRIORITY is the screen on top
        if not seen and failed:
            return None  # look again once there is one document to look at
        by_address = not seen and not busy
        if by_address:
            path = self.page.url
            candidates = [s for s in screens if any(p.search(path) for p in RECOGNISERS[s].paths)]
            # The address never outweighs what the page shows: a password field at the home's address is
            # a login drawn there, not the home.
            contradicted = await asyncio.gather(*(self._contradicted(negatives[s]) for s in candidates))
            seen = [s for s, no in zip(candidates, contradicted, strict=True) if not no]
        if not seen:
            return None
        if seen[0] in WEAK and recheck_weak:
            # The queries run concurrently: late content may have replaced "Carregando…" between the one
            # that found the header and the one that found nothing loading, so the screen it brought was
            # not asked about in time. A second look sees one document state, whatever it is now.
            return await self._classify(screens, signals, negatives, recheck_weak=False)
        return Observation(seen[0], frozenset(seen), self.page.url, by_address=by_address)

    async def _contradicted(self, negatives: list[Locator]) -> bool:
        """Whether any of a screen's negatives shows (a failed query counts: the page is still changing)."""
        if not negatives:
            return False
        return await self._count(self.page.locator(":root").filter(has=reduce(Locator.or_, negatives))) != 0

    async def snapshot(self) -> str:
        """The page's ARIA snapshot, secrets removed ("" when the page cannot give one)."""
        try:
            text = await self.page.locator("body").aria_snapshot(timeout=5000)
        except PlaywrightError as exc:
            return f"(no ARIA snapshot: {type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "[REDACTED]")
        return text

    async def changed(self, step: str, reason: str, *, waiting_for: list[str] | None = None,
                      rejected: list[str] | None = None) -> PortalChanged:
        """A PortalChanged for `step` carrying the evidence a developer needs (raise it)."""
        evidence = {"step": step, "url": self.page.url, "waiting_for": waiting_for or [],
                    "rejected": rejected or [], "clicked": list(self.clicked), "aria_snapshot": await self.snapshot()}
        return PortalChanged(f"{step}: {reason}", step=step, evidence=evidence)


def same_words(a: str, b: str) -> bool:
    """Whether two names are the same words, ignoring accents, case and spacing."""
    return " ".join(fold(a).split()) == " ".join(fold(b).split())
