"""User intents over recognised screens: each acts, then observes which screen came next.

Every intent takes the `Screens` of the tab (and what it needs) and returns the `Observation` it ended
on, or raises a `flows.errors` exception. Controls are found by role and name first, then label, text and
placeholder, through `controls.pick` (deny list, no guessing); CSS only for documented third-party widgets.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import structlog
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, expect

from flows.cemig.controls import card_action, click, names_of, pick, tick, tickable_checkbox
from flows.cemig.screens import (
    Observation,
    Screen,
    Screens,
    interstitial,
    loading,
    login_password,
    password_inputs,
)
from flows.cemig.vocabulary import denied, fold, pattern
from flows.errors import InstallationNotFound, LoginRejected, PortalUnavailable, SessionExpired

log = structlog.get_logger(__name__)
MAX_INTERSTITIALS = 6
MENU_ATTEMPTS = 3
EMAIL_RE = re.compile(r"[\w.+*-]*[\w*]@[\w*-]+(?:\.[\w*-]+)+")


def raise_for(observation: Observation, step: str, *, login_expected: bool = False) -> None:
    """Turn the error screens into the error families: unavailable (retry) or session expired (log in)."""
    if observation.screen == Screen.ERROR:
        raise PortalUnavailable(f"the portal showed an error page at {step}", step=step)
    if observation.screen == Screen.SESSION_EXPIRED or (observation.screen == Screen.LOGIN and not login_expected):
        raise SessionExpired(f"the portal ended the session at {step}", step=step)


async def settle(screens: Screens, expected: set[Screen], *, step: str, timeout_s: float | None = None) -> Observation:
    """Observe, closing interstitials on the way, until one of `expected` shows; errors raised by family."""
    for _ in range(MAX_INTERSTITIALS + 1):
        seen = await screens.observe(expected, step=step, timeout_s=timeout_s)
        if seen.screen == Screen.INTERSTITIAL and Screen.INTERSTITIAL not in expected:
            await close_interstitials(screens, step=step)
            continue
        raise_for(seen, step, login_expected=Screen.LOGIN in expected or Screen.CAPTCHA in expected)
        return seen
    raise await screens.changed(step, f"more than {MAX_INTERSTITIALS} interstitials in a row")


async def close_interstitials(screens: Screens, *, step: str, direct: bool = False) -> None:
    """Close whatever interstitial is in the way: the cookie banner (reject), then any dialog's close control.

    While the flow's locator handler is installed (`screens.overlay_handled`), the handler is the one
    closer: Playwright runs it before any action or web-first assertion, so clicking here as well would
    race it (the click's own pre-check runs the handler, which takes the control away from under it).
    Then this only waits, web-first, for the interstitials to go; `direct` (the handler itself) clicks.
    """
    page = screens.page
    if screens.overlay_handled and not direct:
        with contextlib.suppress(AssertionError):
            await expect(interstitial(page).filter(visible=True)).to_have_count(0)
            return
        # Still there: the handler could not close it; the direct path ends in PortalChanged with evidence.
    cookies = page.get_by_role("button", name=pattern("cookie_reject")).or_(
        # OneTrust's documented button id (third party, reference §2.1).
        page.locator("#onetrust-reject-all-handler"))
    banner = page.get_by_role("button", name=pattern("cookie_button")).or_(page.locator("#onetrust-banner-sdk"))
    if await cookies.filter(visible=True).count():
        target = await pick(screens, cookies, step=step, purpose="reject cookies", required=False, timeout_s=0.5)
        if target is not None:  # else it was answered meanwhile (the locator handler got there first)
            try:
                await click(screens, target, step=step, timeout_s=2)
            except PlaywrightError:
                if await cookies.filter(visible=True).count():
                    raise  # still there: not a race with the locator handler
        await expect(banner.filter(visible=True)).to_have_count(0)
        return
    dialogs = page.get_by_role("dialog").or_(page.get_by_role("alertdialog")).filter(visible=True)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + screens.timeout_s
    while loop.time() < deadline:
        if not await dialogs.count():
            return  # it went away by itself (a toast, an auto-closing notice) or the locator handler closed it
        # Dialogs stack: the last one opened is on top, and the only one a person could close first.
        dialog = dialogs.last
        close = (dialog.get_by_role("button", name=pattern("close", whole=True))
                 .or_(dialog.get_by_role("link", name=pattern("close", whole=True)))
                 .or_(dialog.get_by_role("button", name=pattern("close"))))
        target = await pick(screens, close, step=step, purpose="close the interstitial", timeout_s=1,
                            prefer=pattern("close", whole=True), interchangeable=True, required=False)
        if target is None:
            continue  # the dialog on top changed meanwhile (closed, or the next one opened): look again
        try:
            await click(screens, target, step=step, timeout_s=2)
        except PlaywrightError:
            continue  # closed under our hand by the locator handler: look again
        log.info("interstitial_closed", step=step)
        return
    raise await screens.changed(step, "an interstitial stayed open: no control to close it")


async def log_in(screens: Screens, identifier: str, password: str, *, step: str = "login") -> Observation:
    """Type the login and password into the login form only, press its button, and read the outcome.

    Returns the logged-in home; raises LoginRejected (or ChallengeRequired via the caller's check) when the
    form answers with an error.
    """
    page = screens.page
    secret_field = await pick(screens, login_password(page), step=step, purpose="type the password")
    ident = page.get_by_label(pattern("login_field")).or_(page.get_by_placeholder(pattern("login_field")))
    ident_field = await pick(screens, ident.and_(page.get_by_role("textbox")), step=step,
                             purpose="type the login", required=False, timeout_s=1)
    if ident_field is None:  # structure: the only text field beside the password
        ident_field = await pick(screens, page.get_by_role("textbox"), step=step, purpose="type the login")
    await ident_field.fill(identifier)  # type: ignore[union-attr]
    await secret_field.fill(password)  # type: ignore[union-attr]
    return Observation(Screen.LOGIN, frozenset({Screen.LOGIN}), page.url)


async def fields_filled(screens: Screens) -> bool:
    """Whether the password field still holds something (a reload while a person solved the captcha empties it)."""
    page = screens.page
    try:
        return bool(await login_password(page).filter(visible=True).input_value(timeout=2000))
    except PlaywrightError:
        return False


async def submit_login(screens: Screens, *, step: str = "login") -> Observation:
    """Press the login form's button and wait for the home page or the form's refusal."""
    page = screens.page
    stale = [item["name"] for item in await names_of(page.get_by_role("alert").filter(visible=True))]
    button = await pick(screens, page.get_by_role("button", name=pattern("login_button")), step=step,
                        purpose="submit the login", prefer=pattern("login_button", whole=True))
    await click(screens, button, step=step)  # type: ignore[arg-type]
    for text in stale:  # a notice from before (e.g. "sua sessão expirou") must not read as the answer
        try:
            await expect(page.get_by_role("alert").filter(has_text=text)).to_have_count(0)
        except AssertionError:
            break
    seen = await settle(screens, {Screen.HOME, Screen.LOGIN_REJECTED}, step=step)
    if seen.screen == Screen.LOGIN_REJECTED:
        alerts = [item["name"] for item in await names_of(page.get_by_role("alert").filter(visible=True))]
        text = " ".join(t for t in alerts if t not in stale) or " ".join(alerts)
        if not text:
            text = " ".join([item["name"] for item in await names_of(
                page.get_by_text(pattern("login_error")).filter(visible=True))])
        if pattern("locked").search(text):
            raise LoginRejected("the portal locked this login after failed attempts", step=step, locked=True,
                                user_message=("O portal bloqueou o login do cliente por excesso de tentativas. "
                                              "O cliente precisa redefinir a senha na Agência Virtual."))
        if pattern("captcha").search(text):
            from flows.errors import ChallengeRequired

            raise ChallengeRequired(f"the portal rejected the challenge: {text}", step=step)
        raise LoginRejected(f"the portal refused the login: {text or 'no message shown'}", step=step)
    return seen


def first_name(name: str | None) -> str:
    """The first word of the client's name ("" when unknown)."""
    return (name or "").split()[0] if (name or "").split() else ""


def _name_regex(text: str) -> re.Pattern[str]:
    from flows.cemig.vocabulary import regex_of

    return regex_of((text,))


async def open_access_data(screens: Screens, *, holder_name: str | None, step: str = "access_data") -> Observation:
    """Client's name (or avatar + first name) → "Editar dados de acesso"; returns the access-data form."""
    page = screens.page
    link = (page.get_by_role("link", name=pattern("access_data")).or_(page.get_by_role("menuitem", name=pattern(
        "access_data"))).or_(page.get_by_role("button", name=pattern("access_data"))))
    for attempt in range(MENU_ATTEMPTS):
        last = attempt == MENU_ATTEMPTS - 1
        if not await link.filter(visible=True).count():
            await open_user_menu(screens, holder_name=holder_name, step=step)
        target = await pick(screens, link, step=step, purpose="open the access data", required=last,
                            prefer=pattern("access_data", whole=True), timeout_s=None if last else 2)
        if target is None:
            continue  # the menu closed again (an interstitial's close button counts as a click outside it)
        try:
            await click(screens, target, step=step, timeout_s=None if last else 2)
        except PlaywrightError:
            if last:
                raise
            continue  # the same: an interstitial popped up and closing it collapsed the menu; open it again
        break
    return await settle(screens, {Screen.ACCESS_DATA}, step=step)


async def open_user_menu(screens: Screens, *, holder_name: str | None, step: str) -> None:
    """Open the user menu: the control named after the client, or the header's only collapsed menu button."""
    page = screens.page
    first = first_name(holder_name)
    trigger: Locator | None = None
    if first:
        named = (page.get_by_role("button", name=_name_regex(first))
                 .or_(page.get_by_role("link", name=_name_regex(first))))
        trigger = await pick(screens, named, step=step, purpose="open the user menu", required=False, timeout_s=2)
    if trigger is None:
        # Structure (§4): the user card opens from a collapsed popup button in the header.
        trigger = await pick(screens, page.get_by_role("banner").get_by_role("button", expanded=False).or_(
            page.get_by_role("button", expanded=False)), step=step, purpose="open the user menu")
    await click(screens, trigger, step=step)  # type: ignore[arg-type]


async def set_access_email(screens: Screens, target: str, *, password: str, secret_guard: SecretGuard = None,
                           confirm_by_email: ConfirmByEmail = None, step: str = "save_email") -> tuple[str, str | None]:
    """Put `target` in the only e-mail field of the access-data form and save.

    Returns (the address that was there before, the portal's confirmation text or None when nothing
    needed saving). The portal password goes only into the current-password field of this form or of the
    dialog that confirms the change (`_current_password_field`); a password field it cannot place that
    way is PortalChanged. `secret_guard` wraps typing it and the request that carries it (tracing paused).
    A portal that confirms the new address by a code or link sent to it is answered with
    `confirm_by_email` (`_confirm_by_email`).
    """
    page = screens.page
    field = await _email_field(screens, step)
    current = (await field.input_value()).strip()
    if current.lower() == target.lower():
        return current, None
    form = field.locator("xpath=ancestor::form[1]")
    await field.fill(target)  # type: ignore[union-attr]
    save = await pick(screens, page.get_by_role("button", name=pattern("save")), step=step,
                      purpose="save the e-mail", prefer=pattern("save", whole=True))
    if not await form.count():
        # No <form> element (a React form is often plain divs): the form is the innermost block holding both the
        # e-mail field and its save button.
        form = field.locator("xpath=ancestor::*").filter(has=save).last  # type: ignore[arg-type]
    in_form = await _current_password_field(screens, form if await form.count() else None, step=step)
    after_save = {Screen.EMAIL_SAVED, Screen.IDENTITY_PROMPT, Screen.EMAIL_CODE, Screen.EMAIL_LINK}
    since = datetime.now(UTC)
    async with _guarded(secret_guard if in_form is not None else None):
        if in_form is not None:
            await in_form.fill(password)
        await click(screens, save, step=step)  # type: ignore[arg-type]
        seen = await settle(screens, after_save, step=step)
    if seen.screen == Screen.IDENTITY_PROMPT:
        (dialog,) = [page.get_by_role("dialog").or_(page.get_by_role("alertdialog")).filter(
            has=password_inputs(page)).filter(visible=True)]
        if await dialog.count() != 1:
            raise await screens.changed(step, "several dialogs ask for a password: refusing to guess")
        secret = await _current_password_field(screens, dialog, step=step)
        if secret is None:
            raise await screens.changed(step, "a dialog asks for a password the bot cannot place")
        # The dialog's own confirming button: a save wording, or a confirm one ("Confirmar", "Continuar").
        confirm = await pick(screens, dialog.get_by_role("button", name=pattern("save")).or_(
            dialog.get_by_role("button", name=pattern("confirm"))), step=step,
            purpose="confirm the change with the password", prefer=pattern("save", whole=True))
        async with _guarded(secret_guard):
            await secret.fill(password)
            await click(screens, confirm, step=step)  # type: ignore[arg-type]
            seen = await settle(screens, after_save - {Screen.IDENTITY_PROMPT}, step=step)
    if seen.screen in {Screen.EMAIL_CODE, Screen.EMAIL_LINK}:
        await _confirm_by_email(screens, seen.screen, target, since, confirm_by_email, step=step)
    texts = [item["name"] for item in await names_of(
        page.get_by_role("status").or_(page.get_by_text(pattern("saved"))).filter(visible=True))]
    return current, " ".join(texts)


async def _confirm_by_email(screens: Screens, screen: Screen, target: str, since: datetime,
                            confirm_by_email: ConfirmByEmail, *, step: str) -> None:
    """Type the code, or open the link, that the portal sent to `target` (the unit's inbox).

    Only a code of digits goes into the code field, and only a link on the portal's own host is opened
    (whatever `confirm_by_email` returned); anything else is PortalChanged.
    """
    page = screens.page
    if confirm_by_email is None:
        raise await screens.changed(step, "the portal confirms the new e-mail by a code or link sent to it, and no "
                                          "mailbox is configured to read it")
    host = urlsplit(page.url).hostname or ""
    found = await confirm_by_email(target, since, host)
    if found is None:
        raise await screens.changed(step, "no confirmation code or link reached the unit's inbox in time")
    if screen == Screen.EMAIL_CODE:
        if not re.fullmatch(r"\d{4,8}", found):
            raise await screens.changed(step, "the portal asks for a code and the e-mail held none")
        field = await pick(screens, page.get_by_role("textbox", name=pattern("confirm_code")), step=step,
                           purpose="type the confirmation code", required=False, timeout_s=1)
        if field is None:  # structure: the only text field of the screen that asks for the code
            field = await pick(screens, page.get_by_role("textbox"), step=step, purpose="type the confirmation code")
        await field.fill(found)  # type: ignore[union-attr]
        button = await pick(screens, page.get_by_role("button", name=pattern("save")), step=step,
                            purpose="confirm the code", prefer=pattern("save", whole=True))
        await click(screens, button, step=step)  # type: ignore[arg-type]
    else:
        link = urlsplit(found)
        if link.scheme not in {"http", "https"} or link.hostname != host:
            raise await screens.changed(step, "the confirmation link is not on the portal's own host: not opening it",
                                        rejected=[link.hostname or "(no host)"])
        await page.goto(found, wait_until="domcontentloaded")
    await settle(screens, {Screen.EMAIL_SAVED}, step=step)


async def _current_password_field(screens: Screens, region: Locator | None, *, step: str) -> Locator | None:
    """The one current-password field of `region` (the access-data form or its dialog), or None.

    None means the page shows no password field at all.
    Every visible password field on the page must be that one field: labelled like the current password
    (vocabulary "current_password_field", never "new_password_field"), inside `region`. Anything else (a
    field elsewhere, two fields, "Nova senha", no label) ends in PortalChanged with what was seen.
    """
    page = screens.page
    shown = password_inputs(page).filter(visible=True)
    found = await names_of_fields(shown)
    if not found:
        return None
    candidates = [] if region is None else await names_of_fields(password_inputs(region).filter(visible=True))
    placeable = [c for c in candidates if pattern("current_password_field").search(c["label"])
                 and not pattern("new_password_field").search(c["label"])]
    if len(found) != 1 or len(placeable) != 1:
        labels = [repr(item["label"] or "(no label)") for item in found]
        raise await screens.changed(step, "the page asks for a password the bot cannot place as this form's current "
                                          "password: not typing it", rejected=labels)
    return password_inputs(region).filter(visible=True).first  # type: ignore[union-attr]


_FIELD_LABELS_JS = """els => els.map(e => ({
  label: ((e.labels && e.labels.length ? Array.from(e.labels).map(l => l.innerText).join(' ') : '')
          || e.getAttribute('aria-label') || e.getAttribute('placeholder') || '').trim(),
}))"""


async def names_of_fields(locator: Locator) -> list[dict]:
    """The label (or aria-label, or placeholder) of every field `locator` matches (one round trip)."""
    try:
        return await locator.evaluate_all(_FIELD_LABELS_JS)
    except PlaywrightError:
        return []


SecretGuard = Callable[[], contextlib.AbstractAsyncContextManager] | None
ConfirmByEmail = Callable[[str, datetime, str], Awaitable[str | None]] | None


@contextlib.asynccontextmanager
async def _guarded(guard: SecretGuard):  # noqa: ANN202
    if guard is None:
        yield
    else:
        async with guard():
            yield


async def read_access_email(screens: Screens, *, step: str) -> str:
    """The e-mail the access-data form holds."""
    return (await (await _email_field(screens, step)).input_value()).strip()


async def _email_field(screens: Screens, step: str) -> Locator:
    """The field labelled e-mail, or by structure the only text field of the form (whatever its label)."""
    page = screens.page
    with contextlib.suppress(AssertionError):
        await expect(loading(page)).to_have_count(0)  # the form's data may still be on its way
    field = await pick(screens, page.get_by_role("textbox", name=pattern("email_field")).or_(
        page.get_by_placeholder(pattern("email_field"))), step=step, purpose="find the e-mail field",
        required=False, timeout_s=1)
    if field is None:  # structure: the only text field of a form headed "e-mail" (a password field is none:
        # Playwright counts it as a textbox, and the form may ask for the current password beside the e-mail)
        text_fields = page.get_by_role("textbox").and_(page.locator(":not(input[type=password])"))
        field = await pick(screens, text_fields, step=step, purpose="find the e-mail field")
    return field  # type: ignore[return-value]


def _code_regex(code: str) -> re.Pattern[str]:
    digits = re.sub(r"\D", "", code)
    return re.compile(r"(?<!\d)" + r"[.\s-]?".join(digits) + r"(?!\d)")


async def shows_installation(screens: Screens, code: str) -> bool:
    """Whether the page shows this installation (number or UC, masked or not), once it stopped loading."""
    page = screens.page
    shown = page.get_by_text(_code_regex(code)).filter(visible=True)
    try:
        await expect(loading(page)).to_have_count(0)
    except AssertionError:
        pass
    return bool(await shown.count())


async def open_installation_list(screens: Screens, *, step: str) -> None:
    """Open "Minhas instalações" / "Trocar Unidade Consumidora" and wait for the list (selection, discovery)."""
    page = screens.page
    switch = (page.get_by_role("link", name=pattern("switch_installation"))
              .or_(page.get_by_role("button", name=pattern("switch_installation"))))
    target = await pick(screens, switch, step=step, purpose="switch installation",
                        prefer=re.compile(r"Trocar", re.I), required=False, timeout_s=2)
    if target is None:
        # Legacy AGV (§3.1): the switch sits in a collapsed dropdown that shows the current installation.
        dropdown = await pick(screens, page.get_by_role("button", expanded=False, name=re.compile(r"\d{10}")),
                              step=step, purpose="open the installation dropdown")
        await click(screens, dropdown, step=step)  # type: ignore[arg-type]
        target = await pick(screens, switch, step=step, purpose="switch installation",
                            prefer=re.compile(r"Trocar", re.I))
    await click(screens, target, step=step)  # type: ignore[arg-type]
    await settle(screens, {Screen.INSTALLATIONS}, step=step)


async def select_installation(screens: Screens, code: str, *, step: str = "select_installation") -> Observation:
    """Make `code` the current installation: "Trocar"/"Minhas instalações", search or pick it, back home."""
    await open_installation_list(screens, step=step)
    page = screens.page
    search = page.get_by_label(pattern("installation_search")).or_(
        page.get_by_placeholder(pattern("installation_search"))).and_(
            page.get_by_role("textbox").or_(page.get_by_role("searchbox")))
    box = await pick(screens, search, step=step, purpose="search the installation", required=False, timeout_s=1)
    if box is not None:
        await box.fill(code)
        button = await pick(screens, page.get_by_role("button", name=pattern("search_button", whole=True)),
                            step=step, purpose="search", required=False, timeout_s=1)
        if button is not None:
            await click(screens, button, step=step)
        else:
            await box.press("Enter")
    code_re = _code_regex(code)
    # A button naming the installation must also say "Selecionar" (the header's dropdown names it too).
    chosen = (page.get_by_role("button", name=code_re).filter(has_text=pattern("select_button"))
              .or_(page.get_by_role("radio", name=code_re))
              .or_(page.get_by_role("listitem").filter(has_text=code_re).get_by_role("button", name=pattern(
                  "select_button"))).or_(page.get_by_role("row").filter(has_text=code_re).get_by_role(
                      "button", name=pattern("select_button"))))
    home_or_list = await _race_selection(screens, chosen, step, box)
    if home_or_list == "home":
        return await settle(screens, {Screen.HOME}, step=step)
    if home_or_list == "not_found":
        message = " ".join(item["name"] for item in await names_of(
            page.get_by_role("alert").or_(page.get_by_text(pattern("not_found"))).filter(visible=True)))
        raise InstallationNotFound(f"installation {code} is not on this portal login ({message})", step=step)
    target = await pick(screens, chosen, step=step, purpose=f"select installation {code}")
    await click(screens, target, step=step)  # type: ignore[arg-type]
    confirm = await pick(screens, page.get_by_role("button", name=pattern("select_button", whole=True)).or_(
        page.get_by_role("button", name=pattern("confirm", whole=True))), step=step, purpose="confirm the choice",
        required=False, timeout_s=0.3)
    if confirm is not None and await page.get_by_role("radio", name=code_re).filter(visible=True).count():
        await click(screens, confirm, step=step)
    return await settle(screens, {Screen.HOME}, step=step)


async def _race_selection(screens: Screens, chosen: Locator, step: str, box: Locator | None = None) -> str:
    """After a search: "home" (it selected and left the list), "not_found", or "list" (the installation is listed)."""
    page = screens.page
    not_found = page.get_by_role("alert").or_(page.get_by_text(pattern("not_found"))).filter(visible=True)
    waits = [asyncio.ensure_future(expect(chosen.filter(visible=True).or_(not_found)).not_to_have_count(0))]
    if box is not None:
        waits.append(asyncio.ensure_future(expect(box).to_be_hidden()))  # a new page: the search took it home
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if all(task.exception() is not None for task in done):
        raise await screens.changed(step, "after the search neither the installation nor a message showed")
    if await not_found.count():
        return "not_found"
    if await chosen.filter(visible=True).count():
        return "list"
    return "home"


async def open_conta_digital(screens: Screens, *, step: str = "conta_digital") -> Observation:
    """Find "Conta digital" (services grid, card or link), open it and recognise its state."""
    page = screens.page
    entry = (page.get_by_role("link", name=pattern("conta_digital"))
             .or_(page.get_by_role("button", name=pattern("conta_digital"))))
    title = page.get_by_text(pattern("conta_digital")).filter(visible=True)
    with contextlib.suppress(AssertionError):  # web-first: the control, or a card's title, once rendered
        await expect(entry.filter(visible=True).or_(title)).not_to_have_count(0, timeout=screens.timeout_s * 1000)
    target = None
    if not await entry.filter(visible=True).count():
        # A card titled "Conta digital" whose only control is a generic "Acessar" (Material-UI cards).
        target = await card_action(screens, pattern("conta_digital"), step=step, purpose="open Conta Digital")
    if target is None:
        target = await pick(screens, entry, step=step, purpose="open Conta Digital",
                            prefer=pattern("conta_digital", whole=True))
    await click(screens, target, step=step)  # type: ignore[arg-type]
    return await settle(screens, {Screen.CONTA_ENROLLED, Screen.CONTA_NOT_ENROLLED}, step=step)


async def conta_digital_href(screens: Screens) -> str | None:
    """Where the page's one "Conta digital" link leads (same site, plain link), read without following it.

    None when there is no such link, several different ones, or a script control: the flow then opens
    it by clicking.
    """
    page = screens.page
    found = await names_of(page.get_by_role("link", name=pattern("conta_digital")).filter(visible=True))
    hrefs = {item["href"].strip() for item in found if not denied(item["name"])}
    if len(hrefs) != 1:
        return None
    href = hrefs.pop()
    if not href or href.startswith(("#", "javascript:")):
        return None
    target, here = urlsplit(urljoin(page.url, href)), urlsplit(page.url)
    if (target.scheme, target.netloc) != (here.scheme, here.netloc):
        return None
    return target.path + (f"?{target.query}" if target.query else "")


def address_matches(shown: str, target: str) -> bool:
    """Whether an address read on the portal is `target`; a masked one (`m***@d***.com`) matches by its mask."""
    if "*" not in shown:
        return shown.lower() == target.lower()
    parts = [re.escape(piece) for piece in re.split(r"\*+", shown.lower())]
    return re.fullmatch(".+".join(parts), target.lower()) is not None


async def read_where_bills_go(screens: Screens, *, step: str = "conta_digital") -> str | None:
    """The address (possibly masked) the enrolled page says bills go to; None when it names none."""
    page = screens.page
    near = (page.get_by_role("status").or_(page.get_by_text(pattern("bills_go_to")))
            .or_(page.get_by_text(pattern("enrolled")))).filter(visible=True)
    texts = [item["name"] for item in await names_of(near)]
    found = {m.group(0).strip(".").lower() for t in texts for m in EMAIL_RE.finditer(t)}
    if not found:
        main = page.get_by_role("main").filter(visible=True)
        texts = [item["name"] for item in await names_of(main)]
        found = {m.group(0).strip(".").lower() for t in texts for m in EMAIL_RE.finditer(t)}
    if len(found) > 1:
        raise await screens.changed(step, "Conta Digital names several addresses", rejected=sorted(found))
    return found.pop() if found else None


async def accept_terms(screens: Screens, *, on_submit: Callable[[], None], step: str = "confirm_adhesion") -> str:
    """"Aderir" → the checkbox inside the terms (scrolled to the end when it starts disabled) → confirm.

    Returns the confirmation text. `on_submit` is called just before the click that submits (the
    confirming button, or "Aderir" itself when no terms follow it), so the caller counts a submission
    whose outcome a failure leaves unknown, and never makes a second one.
    """
    page = screens.page
    enrol = await pick(screens, page.get_by_role("button", name=pattern("enrol")).or_(
        page.get_by_role("link", name=pattern("enrol"))), step="adhesion_terms", purpose="start the adhesion",
        prefer=pattern("enrol", whole=True))
    await click(screens, enrol, step="adhesion_terms")  # type: ignore[arg-type]
    seen = await settle(screens, {Screen.TERMS, Screen.CONFIRMATION, Screen.CONTA_ENROLLED}, step="adhesion_terms")
    if seen.screen != Screen.TERMS:
        on_submit()  # "Aderir" itself submitted it
        return await _confirmation_text(screens)
    dialogs = page.get_by_role("dialog").filter(visible=True).filter(has=page.get_by_role("checkbox"))
    scope = dialogs if await dialogs.count() == 1 else page.locator("body")
    with contextlib.suppress(AssertionError):  # the terms' text may arrive after a spinner: read it once loaded
        await expect(loading(page)).to_have_count(0, timeout=screens.timeout_s * 1000)
    box, through_label = await tickable_checkbox(
        screens, scope.get_by_role("checkbox").filter(has_not=page.locator("iframe")), step=step,
        purpose="accept the terms", prefer=re.compile(r"aceit|concord|termo|li ", re.I))
    if not await box.is_enabled():
        await _scroll_terms_until_enabled(screens, scope, box, step=step)
    await tick(screens, box, through_label=through_label, step=step)
    screens.clicked.append("checkbox:terms")
    confirm = await pick(screens, scope.get_by_role("button", name=pattern("confirm")).filter(
        has_not_text=pattern("close", whole=True)), step=step, purpose="confirm the adhesion",
        prefer=pattern("confirm", whole=True))
    await expect(confirm).to_be_enabled()  # type: ignore[arg-type]
    on_submit()
    await click(screens, confirm, step=step)  # type: ignore[arg-type]
    await settle(screens, {Screen.CONFIRMATION, Screen.CONTA_ENROLLED}, step=step)
    return await _confirmation_text(screens)


async def _scroll_terms_until_enabled(screens: Screens, scope: Locator, box: Locator, *, step: str) -> None:
    """Scroll every scrollable box of the terms until their checkbox enables, or the deadline passes.

    Some terms enable their checkbox only once read to the end; the text may still be growing, so scroll again.
    """
    page = screens.page
    loop = asyncio.get_running_loop()
    deadline = loop.time() + screens.timeout_s
    while True:
        await scope.evaluate("""root => { for (const e of [root, ...root.querySelectorAll('*')]) {
            if (e.scrollHeight > e.clientHeight + 2) { e.scrollTop = e.scrollHeight;
              e.dispatchEvent(new Event('scroll')); } } }""")
        await page.mouse.wheel(0, 10_000)
        try:
            await expect(box).to_be_enabled(timeout=1000)
            return
        except AssertionError:
            if loop.time() >= deadline:
                raise await screens.changed(step, "the terms checkbox stayed disabled after scrolling to the end") \
                    from None


async def _confirmation_text(screens: Screens) -> str:
    page = screens.page
    near = (page.get_by_role("status").or_(page.get_by_text(pattern("done"))).or_(page.get_by_text(
        pattern("enrolled")))).filter(visible=True)
    return " ".join(" ".join(item["name"].split()) for item in await names_of(near))


def folded(text: str) -> str:
    """`vocabulary.fold`, re-exported for the flow's messages."""
    return fold(text)
