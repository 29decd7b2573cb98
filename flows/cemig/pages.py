"""Page objects for CEMIG's Agência Virtual, located by visible pt-BR texts and roles.

Every Portuguese string the bot relies on lives in this module, so a wording change on the portal is a
one-line fix here. CSS appears only where a screen element has no accessible name (reCAPTCHA's hidden
response field and its site key), each with a comment. Methods are user intents and wait only through
Playwright's auto-waiting and `expect`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, Response, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from flows.errors import (
    ChallengeRequired,
    InstallationNotFound,
    LoginRejected,
    PortalChanged,
    PortalUnavailable,
    SessionExpired,
)

# Texts of the portal (reference: ../shared/reference/cemig-portal.md).
LOGIN_HEADING = re.compile(r"Acesse a Agência Virtual", re.I)
LOGIN_FIELD = re.compile(r"CPF, CNPJ ou e-mail", re.I)
PASSWORD_FIELD = "Senha"  # noqa: S105 - the field's label, not a password
LOGIN_BUTTON = "Entrar"
NOT_A_ROBOT = "Não sou um robô"
COOKIE_BUTTONS = re.compile(r"^(Rejeitar|Aceitar) cookies$")
REJECT_COOKIES = "Rejeitar cookies"
SESSION_EXPIRED = re.compile(r"sess[aã]o expirou", re.I)
LOCKED = re.compile(r"bloquead", re.I)
UNAVAILABLE_HEADINGS = re.compile(r"Serviço temporariamente indisponível|Ocorreu um erro inesperado", re.I)
UPDATE_DATA_DIALOG = "Atualize seus dados"
CLOSE_DIALOG = "Fechar"
MY_INSTALLATIONS = "Minhas instalações"
SELECTED_INSTALLATION = "Você está na instalação:"
INSTALLATION_SEARCH = "Buscar por instalação"
SEARCH_BUTTON = "Pesquisar"
SELECT_INSTALLATION = re.compile(r"^Selecionar instalação \d{10}$")
EDIT_ACCESS_DATA = "Editar dados de acesso"
EMAIL_FIELD = "E-mail"
SAVE = "Salvar"
ACCESS_SAVED = re.compile(r"Dados de acesso atualizados", re.I)
HOME = "Início"
SERVICES_HEADING = "Serviços essenciais"
CONTA_DIGITAL = re.compile(r"^Conta Digital$", re.I)
ALREADY_ENROLLED = re.compile(r"já está cadastrada na Conta Digital", re.I)
BILLS_GO_TO = re.compile(r"As faturas (?:são|serão) enviadas para o e-mail:\s*(\S+@\S+)", re.I)
ENROL = "Aderir à Conta Digital"
TERMS_HEADING = "Termo de adesão"
ACCEPT_TERMS = "Li e aceito o termo de adesão"
CONFIRM_ADHESION = "Confirmar adesão"
ADHESION_DONE = re.compile(r"Adesão realizada com sucesso", re.I)
PROTOCOL = re.compile(r"Protocolo:\s*(\S+)")


@dataclass
class Portal:
    """The open tab plus what every page object needs: base URL, timeouts and the last document status."""

    page: Page
    base_url: str
    timeout_ms: int = 15_000
    last_status: int = 200

    def __post_init__(self) -> None:
        self.page.set_default_timeout(self.timeout_ms)
        self.page.on("response", self._remember_status)

    def _remember_status(self, response: Response) -> None:
        if response.request.resource_type == "document" and response.frame == self.page.main_frame:
            self.last_status = response.status

    def detach(self) -> None:
        """Stop listening to the tab (it may serve the next unit of the same login)."""
        self.page.remove_listener("response", self._remember_status)

    async def check(self, step: str) -> None:
        """Raise the right error when the page is an error page, a 5xx, or the login after an expiry."""
        unavailable = self.page.get_by_role("heading", name=UNAVAILABLE_HEADINGS)
        if self.last_status < 500:
            # One query for the usual case (neither error shown) instead of one per kind of error.
            if not await unavailable.or_(self.page.get_by_text(SESSION_EXPIRED)).count():
                return
        if self.last_status >= 500 or await unavailable.count():
            raise PortalUnavailable(f"the portal answered HTTP {self.last_status} at {step}", step=step)
        raise SessionExpired(f"the portal ended the session at {step}", step=step)

    async def follow(self, target: Locator, step: str) -> None:
        """Click something that loads a new page, wait for that page, then check it for portal errors."""
        try:
            async with self.page.expect_navigation(wait_until="domcontentloaded"):
                await target.click()
        except PlaywrightTimeout as exc:
            if "Locator.click" in str(exc):
                raise  # the element never appeared: the flow decides whether the portal changed
            raise PortalUnavailable(f"the portal did not load the next page at {step}", step=step) from exc
        await self.check(step)

    async def goto(self, path: str, step: str) -> None:
        """Open a portal address; network failures and timeouts are transient."""
        try:
            response = await self.page.goto(self.base_url + path, wait_until="domcontentloaded")
        except (PlaywrightTimeout, PlaywrightError) as exc:
            raise PortalUnavailable(f"could not open {path} at {step}: {type(exc).__name__}", step=step) from exc
        if response is not None:
            self.last_status = response.status
        await self.check(step)

    def path(self) -> str:
        """The address of the page on screen, relative to the base URL (to come back to it later)."""
        parts = urlsplit(self.page.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")


class CookieBanner:
    """The OneTrust banner that covers the page and intercepts clicks until answered."""

    def __init__(self, portal: Portal) -> None:
        self.page = portal.page

    async def dismiss(self) -> bool:
        """Reject optional cookies if the banner is there; returns whether it was."""
        buttons = self.page.get_by_role("button", name=COOKIE_BUTTONS)
        if not await buttons.count():
            return False
        await self.page.get_by_role("button", name=REJECT_COOKIES).click()
        await expect(buttons).to_have_count(0)
        return True


class LoginPage:
    """The login form: identifier, password, the reCAPTCHA and "Entrar"."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.page = portal.page

    async def is_open(self) -> bool:
        """Whether the browser is on the login form."""
        return bool(await self.page.get_by_role("button", name=LOGIN_BUTTON, exact=True).count())

    async def has_challenge(self) -> bool:
        """Whether the form carries the "Não sou um robô" challenge."""
        return bool(await self.page.get_by_text(NOT_A_ROBOT).count())

    async def site_key(self) -> str | None:
        """The reCAPTCHA site key: the widget is a div with a data attribute and no accessible name (CSS)."""
        widget = self.page.locator(".g-recaptcha")
        return await widget.get_attribute("data-sitekey") if await widget.count() else None

    def _response_field(self) -> Locator:
        # reCAPTCHA's response is a hidden textarea with no label: only its fixed id finds it.
        return self.page.locator("#g-recaptcha-response")

    async def set_challenge_token(self, token: str) -> None:
        """Put a solver's token where the reCAPTCHA widget would (what solver services document)."""
        await self._response_field().evaluate("(el, token) => { el.value = token; }", token)

    async def wait_for_operator(self, timeout_s: float) -> bool:
        """Wait, bounded, for a person to solve the challenge in the visible browser."""
        try:
            await expect(self._response_field()).not_to_have_value("", timeout=timeout_s * 1000)
        except AssertionError:
            return False
        return True

    async def fill(self, login: str, password: str) -> None:
        """Type the login and the password (the caller keeps this out of kept traces)."""
        await self.page.get_by_label(LOGIN_FIELD).fill(login)
        await self.page.get_by_label(PASSWORD_FIELD, exact=True).fill(password)

    async def is_filled(self) -> bool:
        """Whether both fields still hold something (a reload while a person solved the challenge empties them)."""
        return bool(await self.page.get_by_label(LOGIN_FIELD).input_value()
                    and await self.page.get_by_label(PASSWORD_FIELD, exact=True).input_value())

    async def submit(self) -> None:
        """Press "Entrar" and tell success from a refusal shown on the form."""
        await self.portal.follow(self.page.get_by_role("button", name=LOGIN_BUTTON, exact=True), "login")
        if await self.is_open():
            alert = self.page.get_by_role("alert")
            text = (await alert.inner_text()).strip() if await alert.count() else ""
            if LOCKED.search(text):
                raise LoginRejected("the portal locked this login after failed attempts", step="login",
                                    locked=True, user_message=(
                                        "O portal bloqueou o login do cliente por excesso de tentativas. O cliente "
                                        "precisa redefinir a senha na Agência Virtual."))
            if "robô" in text or "reCAPTCHA" in text:
                raise ChallengeRequired(f"the portal rejected the challenge: {text}", step="login")
            raise LoginRejected(f"the portal refused the login: {text or 'no message shown'}", step="login")


class HomePage:
    """The logged-in home: header (installation, user menu), cards, and the services bar below the fold."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.page = portal.page

    async def open(self) -> None:
        """Go to the home page through the header link."""
        await self.portal.follow(self.page.get_by_role("link", name=HOME, exact=True), "home")

    async def close_dialogs(self) -> bool:
        """Close the "Atualize seus dados" dialog the portal shows after login; returns whether it was open."""
        dialog = self.page.get_by_role("dialog", name=UPDATE_DATA_DIALOG)
        if not await dialog.count():
            return False
        await self.portal.follow(dialog.get_by_role("button", name=CLOSE_DIALOG, exact=True), "post_login_dialog")
        await expect(self.page.get_by_role("dialog", name=UPDATE_DATA_DIALOG)).to_have_count(0)
        return True

    async def shows_installation(self, code: str) -> bool:
        """Whether the home page's installation card is this installation (number or UC code)."""
        card = self.page.get_by_role("region", name=SELECTED_INSTALLATION)
        return bool(await card.filter(has_text=re.compile(rf"(?<!\d){code}(?!\d)")).count())

    async def is_logged_in(self) -> bool:
        """Whether the page shows a logged-in portal (the user menu is there)."""
        return bool(await self.page.get_by_role("link", name=MY_INSTALLATIONS).count())

    async def open_access_data(self) -> AccessDataPage:
        """Client's name → "Editar dados de acesso"."""
        # The user menu trigger is the only collapsed menu button; its name is the client's own name.
        await self.page.get_by_role("button", expanded=False).click()
        await self.portal.follow(self.page.get_by_role("link", name=EDIT_ACCESS_DATA), "access_data")
        await expect(self.page.get_by_role("heading", name=EDIT_ACCESS_DATA)).to_be_visible()
        return AccessDataPage(self.portal)

    async def conta_digital_path(self) -> str | None:
        """Where the services bar's "Conta Digital" link leads, read without following it.

        None when the link is not there or is not a plain link to this portal (a script button): the
        flow then goes through the home page and clicks it.
        """
        hrefs = await self.page.get_by_role("link", name=CONTA_DIGITAL).evaluate_all(
            "links => links.map(link => link.getAttribute('href') || '')")  # one round trip, no waiting
        if len(hrefs) != 1:
            return None
        href = hrefs[0].strip()
        if not href or href.startswith(("#", "javascript:")):
            return None
        target, here = urlsplit(urljoin(self.page.url, href)), urlsplit(self.page.url)
        if (target.scheme, target.netloc) != (here.scheme, here.netloc):
            return None
        return target.path + (f"?{target.query}" if target.query else "")

    async def open_conta_digital(self) -> ContaDigitalPage:
        """Scroll to the services bar and open "Conta Digital"."""
        services = self.page.get_by_role("heading", name=SERVICES_HEADING)
        await services.scroll_into_view_if_needed()
        await self.portal.follow(self.page.get_by_role("link", name=CONTA_DIGITAL), "conta_digital")
        await expect(self.page.get_by_role("heading", name=CONTA_DIGITAL)).to_be_visible()
        return ContaDigitalPage(self.portal)


class InstallationsPage:
    """The "Minhas instalações" page: search an installation and select it."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.page = portal.page

    async def open(self) -> None:
        """Open the page through the header link."""
        await self.portal.follow(self.page.get_by_role("link", name=MY_INSTALLATIONS), "select_installation")
        await expect(self.page.get_by_role("heading", name=MY_INSTALLATIONS)).to_be_visible()

    async def select(self, code: str) -> None:
        """Search by the 10-digit number or the 15-digit UC code and select it; InstallationNotFound if absent.

        The portal either selects the installation straight from the search (legacy AGV) or lists the
        matches with a "Selecionar" button each; both are handled.
        """
        await self.page.get_by_label(INSTALLATION_SEARCH).fill(code)
        await self.portal.follow(self.page.get_by_role("button", name=SEARCH_BUTTON), "select_installation")
        if not await self.page.get_by_role("heading", name=MY_INSTALLATIONS).count():
            return  # the search selected it and went back home
        alert = self.page.get_by_role("alert")
        if await alert.count():
            message = " ".join((await alert.inner_text()).split())
            raise InstallationNotFound(f"installation {code} is not on this portal login ({message})",
                                       step="select_installation")
        choices = self.page.get_by_role("button", name=SELECT_INSTALLATION)
        if await choices.count() != 1:
            raise PortalChanged(f"searching {code} listed {await choices.count()} installations",
                                step="select_installation")
        await self.portal.follow(choices, "select_installation")


class AccessDataPage:
    """The "Editar dados de acesso" page: the access e-mail and "Salvar"."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.page = portal.page

    async def email(self) -> str:
        """The e-mail currently saved."""
        return (await self.page.get_by_label(EMAIL_FIELD, exact=True).input_value()).strip()

    async def save_email(self, email: str) -> str:
        """Type the e-mail, press "Salvar" and return the portal's confirmation text."""
        await self.page.get_by_label(EMAIL_FIELD, exact=True).fill(email)
        await self.portal.follow(self.page.get_by_role("button", name=SAVE, exact=True), "save_email")
        confirmation = self.page.get_by_role("status").filter(has_text=ACCESS_SAVED)
        if not await confirmation.count():
            alert = self.page.get_by_role("alert")
            message = (await alert.inner_text()).strip() if await alert.count() else "no confirmation shown"
            raise PortalChanged(f"saving the access e-mail did not confirm: {message}", step="save_email")
        return (await confirmation.inner_text()).strip()


class ContaDigitalPage:
    """The "Conta Digital" page: the installation's data, and either "Aderir" or the enrolled state."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.page = portal.page

    @classmethod
    async def reopen(cls, portal: Portal, path: str) -> ContaDigitalPage:
        """Open the page at the address the services bar's link gives: a fresh read of the portal's state."""
        await portal.goto(path, "conta_digital")
        await expect(portal.page.get_by_role("heading", name=CONTA_DIGITAL)).to_be_visible()
        return cls(portal)

    async def shows_installation(self, code: str) -> bool:
        """Whether the page's installation data shows this number or UC code (the selection took)."""
        return bool(await self.page.get_by_role("definition").filter(has_text=re.compile(rf"^\s*{code}\s*$")).count())

    async def enrolment(self) -> tuple[bool, str | None, str]:
        """(enrolled?, the e-mail bills go to, the status text read)."""
        status = self.page.get_by_role("status").filter(has_text=ALREADY_ENROLLED)
        if await status.count():
            text = " ".join((await status.inner_text()).split())
            match = BILLS_GO_TO.search(text)
            return True, (match.group(1).strip(".") if match else None), text
        if await self.page.get_by_role("button", name=ENROL).count():
            return False, None, ""
        raise PortalChanged("Conta Digital shows neither the enrolled state nor the adhesion button",
                            step="conta_digital")

    async def enrol(self) -> str:
        """Press "Aderir à Conta Digital", accept the "Termo de adesão", confirm; return the evidence."""
        await self.portal.follow(self.page.get_by_role("button", name=ENROL), "adhesion_terms")
        await expect(self.page.get_by_role("heading", name=TERMS_HEADING)).to_be_visible()
        await self.page.get_by_label(ACCEPT_TERMS).check()
        await self.portal.follow(self.page.get_by_role("button", name=CONFIRM_ADHESION), "confirm_adhesion")
        done = self.page.get_by_role("heading", name=ADHESION_DONE)
        if not await done.count():
            alert = self.page.get_by_role("alert")
            message = (await alert.inner_text()).strip() if await alert.count() else "no confirmation shown"
            raise PortalChanged(f"the adhesion did not confirm: {message}", step="confirm_adhesion")
        return " ".join((await self.page.get_by_role("status").inner_text()).split())
