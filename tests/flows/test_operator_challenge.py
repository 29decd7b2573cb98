"""The operator strategy: the bot fills the form and waits while a person ticks the captcha."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import async_playwright, expect

from flows.base import AdhesionRequest, ChallengePolicy
from flows.cemig.flow import CemigFlow
from flows.errors import ChallengeRequired
from tests.aio import run_async

pytestmark = pytest.mark.browser


def run_with_operator(browser_settings, simulator, *, operator_acts: bool, wait_s: float, reloads: bool = False):
    customer = simulator.add_customer()
    request = AdhesionRequest(portal_login=customer.document, portal_password=customer.password,
                              installation="3000055479", uc_code=None, target_email="uc-3000055479-op12@x.example.com")

    async def operator(context) -> None:
        # A person in front of the visible browser: waits for the challenge and ticks it.
        page = context.pages[0] if context.pages else await context.wait_for_event("page")
        # reCAPTCHA v2 as Google serves it: the checkbox is inside the anchor iframe.
        box = page.frame_locator("iframe[title='reCAPTCHA']").get_by_role("checkbox", name="Não sou um robô")
        await box.wait_for(timeout=15_000)
        if reloads:  # the person reloads the page first: what the bot typed is gone
            await expect(page.get_by_label("Senha", exact=True)).not_to_have_value("", timeout=15_000)
            await page.reload()
        await box.check(timeout=15_000)

    async def go():
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**browser_settings.launch_options())
            context = await browser.new_context()
            await context.new_page()
            flow = CemigFlow(base_url=simulator.url, action_timeout_ms=8000)
            person = asyncio.create_task(operator(context)) if operator_acts else None
            try:
                return await flow.adhere(context, request, challenge=ChallengePolicy(operator_wait_s=wait_s))
            except ChallengeRequired as error:
                return error
            finally:
                if person is not None:
                    await person
                await browser.close()

    return run_async(go())


def test_operator_solves_the_challenge_while_the_bot_waits(browser_settings, simulator):
    simulator.admin.set_scenario({"captcha": "checkbox"})
    result = run_with_operator(browser_settings, simulator, operator_acts=True, wait_s=20)
    assert not isinstance(result, Exception), result
    assert result.state == "enrolled" and result.submissions == 1


def test_a_person_who_reloads_the_page_before_ticking_does_not_make_the_bot_submit_an_empty_form(
        browser_settings, simulator):
    """The page the bot typed into is gone; the one the person ticked is empty: the bot types again."""
    simulator.admin.set_scenario({"captcha": "checkbox"})
    result = run_with_operator(browser_settings, simulator, operator_acts=True, wait_s=20, reloads=True)
    assert not isinstance(result, Exception), result
    assert result.state == "enrolled" and result.submissions == 1


def test_nobody_at_the_browser_ends_in_challenge_required_within_the_bound(browser_settings, simulator):
    simulator.admin.set_scenario({"captcha": "checkbox"})
    result = run_with_operator(browser_settings, simulator, operator_acts=False, wait_s=1)
    assert isinstance(result, ChallengeRequired) and "within 1 s" in str(result)
