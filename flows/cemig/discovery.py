"""Discovery: log in with a portal login and read every installation its "Minhas instalações" list shows.

The list is read, not clicked through: each row or card naming exactly one 10-digit installation number is
one installation; from its text come the 15-digit UC code (where shown), the address, the status badge
(Ativa / Suspensa / Encerrada, or the new portal API's English words) and the customer's CPF/CNPJ when one
login holds installations of several customers (reference §3.1 ``ddCliente``). Nothing is guessed: a field
the portal does not show stays None.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import asdict, dataclass
from typing import Any

import structlog
from playwright.async_api import BrowserContext, expect
from playwright.async_api import Error as PlaywrightError

from flows.base import ChallengePolicy, StepHook
from flows.cemig import intents
from flows.cemig.flow import CemigFlow, _Progress
from flows.cemig.screens import RECOGNISERS, Screen, Screens, interstitial, loading
from flows.cemig.vocabulary import fold
from flows.errors import PortalUnavailable

log = structlog.get_logger(__name__)

NUMBER_RE = re.compile(r"(?<!\d)(3\d{9})(?!\d)")
UC_RE = re.compile(r"(?<![\d/])\d(?:[.\-]?\d){14}(?![\d/])")
DOCUMENT_RE = re.compile(r"(?<!\d)(\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}|\d{3}\.\d{3}\.\d{3}-\d{2})(?!\d)")
CEP_RE = re.compile(r"\d{5}-?\d{3}")
STREET_RE = re.compile(r"\b(rua|r\.|av\.?|avenida|rodovia|rod\.|estrada|fazenda|praca|alameda|travessa|sitio|"
                       r"chacara|br-\d+|mg-\d+)\b", re.I)
# The badge's words (§3.2: "Ativa" / "Suspensa" / "Encerrada", API `Active` / `Suspended` / `Terminated`).
STATUS_WORDS = {"ativa": "Ativa", "ativo": "Ativa", "active": "Ativa", "ligada": "Ativa",
                "suspensa": "Suspensa", "suspenso": "Suspensa", "suspended": "Suspensa", "cortada": "Suspensa",
                "encerrada": "Encerrada", "encerrado": "Encerrada", "terminated": "Encerrada",
                "desligada": "Encerrada", "inativa": "Encerrada"}
STATUS_RE = re.compile(r"(?<![a-z])(" + "|".join(sorted(STATUS_WORDS, key=len, reverse=True)) + r")(?![a-z])")
LABEL_RE = re.compile(r"^\s*[^:\d]{2,40}:\s*")
SEGMENT_SPLIT = re.compile(r"\s*(?:\n|\t|\s·\s|\s—\s|\s\|\s)\s*")


@dataclass(frozen=True)
class ListedInstallation:
    """One installation as the portal's list shows it."""

    installation: str
    uc_code: str | None
    address: str | None
    status: str | None
    """"Ativa", "Suspensa" or "Encerrada"; None when the list shows no badge."""
    customer_document: str | None
    """The customer's CPF/CNPJ (digits) where the list names it."""
    customer_name: str | None

    def as_dict(self) -> dict[str, Any]:
        """A plain dict (JSON-ready)."""
        return asdict(self)


@dataclass(frozen=True)
class _Credentials:
    """What `CemigFlow._log_in` reads of an adhesion request."""

    portal_login: str
    portal_password: str


async def discover(flow: CemigFlow, context: BrowserContext, *, login: str, password: str,
                   challenge: ChallengePolicy, on_step: StepHook | None = None,
                   around_login: Any = None) -> list[ListedInstallation]:
    """Log in as `login` and list every installation under it (restarting on an unavailable portal)."""
    page = context.pages[0] if context.pages else await context.new_page()
    page.set_default_navigation_timeout(flow.navigation_timeout_ms)
    page.set_default_timeout(flow.action_timeout_ms)
    screens = Screens(page, timeout_s=flow.action_timeout_ms / 1000, secrets=(password,))
    flow.screens = screens
    overlay = interstitial(page).first

    async def close_overlay() -> None:
        with contextlib.suppress(Exception):
            for _ in range(intents.MAX_INTERSTITIALS):
                if not await interstitial(page).filter(visible=True).count():
                    break
                await intents.close_interstitials(screens, step="interstitial", direct=True)

    await page.add_locator_handler(overlay, close_overlay)
    screens.overlay_handled = True
    credentials = _Credentials(login, password)
    try:
        for restart in range(flow.retry.max_restarts + 1):
            try:
                return await _walk(flow, screens, credentials, challenge, _Progress(), on_step, around_login)
            except PortalUnavailable as exc:
                if restart >= flow.retry.max_restarts:
                    raise
                delay = flow.retry.backoff_s[min(restart, len(flow.retry.backoff_s) - 1)]
                log.warning("discovery_step_retried", step=exc.step, reason=str(exc), restart=restart + 1,
                            delay_s=delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover
    finally:
        screens.detach()
        with contextlib.suppress(PlaywrightError):
            await page.remove_locator_handler(overlay)


async def _walk(flow: CemigFlow, screens: Screens, credentials: _Credentials, challenge: ChallengePolicy,
                progress: _Progress, on_step: StepHook | None, around_login: Any) -> list[ListedInstallation]:
    async def open_portal() -> Screen:
        await flow._goto("/Home", "open_portal")  # noqa: SLF001 - same package
        return (await intents.settle(screens, {Screen.LOGIN, Screen.CAPTCHA, Screen.HOME},
                                     step="open_portal")).screen

    where = await flow._step("open_portal", progress, on_step, open_portal)  # noqa: SLF001
    if where != Screen.HOME:
        await flow._step("login", progress, on_step, lambda: flow._log_in(  # noqa: SLF001
            screens, credentials.portal_login, credentials, challenge, around_login))  # type: ignore[arg-type]
    if any(p.search(screens.page.url) for p in RECOGNISERS[Screen.LOGIN].paths):
        raise PortalUnavailable("still on the login page after logging in", step="login")
    return await flow._step("list_installations", progress, on_step,  # noqa: SLF001
                            lambda: _read_list(screens))


async def open_installation_list(screens: Screens, *, step: str = "list_installations") -> None:
    """Open the installation list, as intents.select_installation does."""
    await intents.open_installation_list(screens, step=step)


async def _read_list(screens: Screens, step: str = "list_installations") -> list[ListedInstallation]:
    await open_installation_list(screens, step=step)
    page = screens.page
    with contextlib.suppress(AssertionError):
        await expect(loading(page)).to_have_count(0)
    # Loose here: the filter reads textContent, where a cell's number runs into the next cell's digits;
    # the strict reading is on inner_text (cells apart) below.
    items = page.get_by_role("row").or_(page.get_by_role("listitem")).filter(has_text=re.compile(r"3\d{9}"))
    try:
        await expect(items.filter(visible=True).first).to_be_visible()
    except AssertionError:
        raise await screens.changed(step, "the installation list shows no installation number") from None
    best: dict[str, str] = {}
    for text in await items.filter(visible=True).all_inner_texts():
        numbers = set(NUMBER_RE.findall(text))
        if len(numbers) != 1:
            continue  # a container of several cards, or no number at all
        number = numbers.pop()
        if len(text) > len(best.get(number, "")):
            best[number] = text  # the header's "current installation" names it too, with less
    listed = [parse_item(number, text) for number, text in best.items()]
    log.info("installations_listed", count=len(listed),
             statuses=sorted({i.status or "-" for i in listed}))
    return listed


def parse_item(number: str, text: str) -> ListedInstallation:
    """Read one row's or card's text: UC code, address, status and customer beside the installation number."""
    uc = next((re.sub(r"\D", "", m) for m in UC_RE.findall(text) if len(re.sub(r"\D", "", m)) == 15), None)
    status_match = STATUS_RE.search(fold(text))
    status = STATUS_WORDS[status_match.group(1)] if status_match else None
    document_match = DOCUMENT_RE.search(text)
    document = re.sub(r"\D", "", document_match.group(1)) if document_match else None
    customer_name = None
    address = None
    for segment in SEGMENT_SPLIT.split(text):
        if document_match and document_match.group(1) in segment:
            rest = segment.split(document_match.group(1), 1)[1]
            name = re.sub(r"^\s*[-–:]\s*", "", rest).strip()
            customer_name = name or customer_name
            continue
        cleaned = LABEL_RE.sub("", segment)
        cleaned = NUMBER_RE.sub("", UC_RE.sub("", cleaned))
        cleaned = STATUS_RE.sub("", fold(cleaned)) if fold(cleaned).strip() in STATUS_WORDS else cleaned
        cleaned = re.sub(r"^[\s·,:-]+|[\s·,:-]+$", "", cleaned)
        if address is None and cleaned and (CEP_RE.search(cleaned) or STREET_RE.search(fold(cleaned))):
            address = cleaned
    return ListedInstallation(installation=number, uc_code=uc, address=address, status=status,
                              customer_document=document, customer_name=customer_name)
