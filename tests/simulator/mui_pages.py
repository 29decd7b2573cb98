"""Walking the mui family's pages in Chromium as a person would (shared by the mui family and perturbation tests)."""

import re

from playwright.sync_api import Page, expect


def log_in(page: Page, simulator, document: str, password: str) -> None:  # noqa: ANN001 - the simulator fixture
    """Log in through the mui login page and wait for the home.

    The login is a fetch that assigns window.location when it answers: a goto issued before the home
    arrives would be overtaken by that late redirect.
    """
    page.goto(simulator.login_url)
    page.get_by_role("button", name="Rejeitar cookies").click()
    page.get_by_role("textbox", name="CPF/CNPJ").fill(document)
    page.locator("input[type=password]").fill(password)
    page.get_by_role("button", name="Entrar").click()
    expect(page).to_have_url(re.compile(r"/app/inicio"))
