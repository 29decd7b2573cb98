"""When the address decides which screen is shown, and when it must not (real Chromium, routed pages).

A portal's path is the recogniser of last resort: it counts only when no expected screen's signal is on
the page. A replayed fixture, or an SPA that draws its login at whatever address was asked for, shows a
login page at `/Home`; the address must not outweigh what the page shows, nor decide while the page is
still being drawn or replaced.
"""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright

from flows.cemig.screens import Screen, Screens
from flows.errors import PortalChanged
from tests.aio import run_async

pytestmark = pytest.mark.browser
BASE = "http://portal.invalid"

LOGIN_DRAWN_LATE = """<!doctype html><html lang="pt-BR"><body><div id="root"></div><script>
setTimeout(function () {
  document.getElementById("root").innerHTML =
    '<h1>Entrar</h1><label for="u">CPF ou CNPJ</label><input id="u">' +
    '<label for="p">Senha</label><input id="p" type="password"><button>Entrar</button>';
}, 250);
</script></body></html>"""

PASSWORD_PROMPT = """<!doctype html><html lang="pt-BR"><body>
<h1>Bem-vindo de volta</h1><label for="p">Senha</label><input id="p" type="password"><button>Prosseguir</button>
</body></html>"""

NOTHING_KNOWN = """<!doctype html><html lang="pt-BR"><body>
<h1>Olá, Maria</h1><p>Escolha um assunto.</p></body></html>"""

LOGIN = """<!doctype html><html lang="pt-BR"><body>
<h1>Entrar</h1><label for="u">CPF ou CNPJ</label><input id="u">
<label for="p">Senha</label><input id="p" type="password"><button>Entrar</button></body></html>"""


def observe_at(browser_settings, path: str, html: str, expected: set[Screen], screens_type=Screens):
    """Open `html` at BASE + path and observe it; returns the Observation or the PortalChanged raised."""

    async def go():
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**browser_settings.launch_options())
            try:
                context = await browser.new_context()
                await context.route("**/*", lambda route: route.fulfill(
                    status=200, headers={"Content-Type": "text/html; charset=utf-8"}, body=html))
                page = await context.new_page()
                await page.goto(BASE + path, wait_until="domcontentloaded")
                try:
                    return await screens_type(page, timeout_s=3).observe(expected, step="t")
                except PortalChanged as exc:
                    return exc
            finally:
                await browser.close()

    return run_async(go())


def test_a_login_drawn_after_the_first_look_is_the_login_not_the_home_its_address_names(browser_settings):
    seen = observe_at(browser_settings, "/Home", LOGIN_DRAWN_LATE, {Screen.LOGIN, Screen.CAPTCHA, Screen.HOME})
    assert not isinstance(seen, Exception), seen
    assert seen.screen == Screen.LOGIN and not seen.by_address


def test_a_password_field_at_the_home_address_is_not_the_home(browser_settings):
    """The session ended and an SPA drew a login the vocabulary does not know at the home's address."""
    seen = observe_at(browser_settings, "/portal/home", PASSWORD_PROMPT, {Screen.HOME})
    assert isinstance(seen, PortalChanged), seen
    assert seen.evidence["url"].endswith("/portal/home")


def test_the_address_alone_names_the_home_when_nothing_on_the_page_contradicts_it(browser_settings):
    seen = observe_at(browser_settings, "/portal/home", NOTHING_KNOWN, {Screen.HOME})
    assert not isinstance(seen, Exception), seen
    assert seen.screen == Screen.HOME and seen.by_address


class _Replaced(Screens):
    """Every query of the first two looks fails, as while a navigation commits ("Execution context was
    destroyed"): two, because a look that names the home is checked by a second one at once."""

    looks = 0

    async def _classify(self, *args, **kwargs):
        self.looks += 1
        return await super()._classify(*args, **kwargs)

    async def _count(self, locator):
        if self.looks <= 2:
            return None
        return await super()._count(locator)


def test_a_document_being_replaced_is_looked_at_again_not_named_by_its_address(browser_settings):
    seen = observe_at(browser_settings, "/Home", LOGIN, {Screen.LOGIN, Screen.CAPTCHA, Screen.HOME},
                      screens_type=_Replaced)
    assert not isinstance(seen, Exception), seen
    assert seen.screen == Screen.LOGIN
