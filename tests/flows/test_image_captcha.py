"""The login's image captcha (reference §2.1), passed by the 2Captcha-style image solver or by a person.

Real Chromium against the simulator, whose fake 2Captcha service reads the images it drew and misreads
the first `solver_wrong_answers` of them.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from playwright.async_api import async_playwright

from flows.base import AdhesionRequest, ChallengePolicy, RetryPolicy
from flows.cemig.flow import CemigFlow
from flows.cemig.vocabulary import matches
from flows.errors import CaptchaRefused, ChallengeRequired, FlowError
from flows.solver import TwoCaptchaImageSolver
from tests.aio import run_async
from tests.factories import make_cpf

pytestmark = pytest.mark.browser
FAMILIES = ["new", "legacy", "agv", "spa"]


def target(n: int) -> str:
    """The unit's inbox address (the portal keeps one login per access e-mail: one address per customer)."""
    return f"uc-300005547{n}-ic{n}@x.example.com"


def solver_policy(simulator, *, attempts: int = 3) -> ChallengePolicy:
    solver = TwoCaptchaImageSolver(f"{simulator.url}/solver", simulator.solver_key, poll_interval_s=0.1)
    return ChallengePolicy(image_solver=solver, image_rejected=solver.report_bad, image_attempts=attempts)


def enrol(browser_settings, simulator, challenge: ChallengePolicy, *, person=None, n: int = 1):
    """One adhesion of a fresh customer; returns (result or FlowError, the customer, what the bot clicked)."""
    customer = simulator.add_customer(document=make_cpf(random.Random(n)), email=f"cliente{n}@example.com",
                                      installations=(f"300005547{n}",))
    request = AdhesionRequest(portal_login=customer.document, portal_password=customer.password,
                              installation=f"300005547{n}", uc_code=None, target_email=target(n),
                              holder_name=customer.name)

    async def go():
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**browser_settings.launch_options())
            context = await browser.new_context(locale="pt-BR")
            page = await context.new_page()
            flow = CemigFlow(base_url=simulator.url, action_timeout_ms=8000, retry=RetryPolicy(max_restarts=0))
            helper = asyncio.create_task(person(page)) if person is not None else None
            try:
                outcome = await flow.adhere(context, request, challenge=challenge)
            except FlowError as error:
                outcome = error
            finally:
                if helper is not None:
                    await helper
                await browser.close()
            return outcome, list(flow.screens.clicked)

    outcome, clicked = run_async(go())
    return outcome, customer, clicked


def installation(simulator, customer):
    (sim,) = [c for c in simulator.admin.report()["customers"] if c["id"] == customer.id]
    (inst,) = sim["installations"]
    return sim, inst


def events(simulator, kind: str) -> list[dict]:
    return [e for e in simulator.admin.report()["events"] if e["kind"] == kind]


@pytest.mark.parametrize("family", FAMILIES)
def test_the_solver_reads_the_image_the_first_time(browser_settings, simulator, family):
    simulator.admin.set_scenario({"variant": family, "captcha": "image"})
    outcome, customer, _ = enrol(browser_settings, simulator, solver_policy(simulator))
    assert not isinstance(outcome, Exception), outcome
    assert outcome.state == "enrolled" and outcome.submissions == 1
    sim, inst = installation(simulator, customer)
    assert inst["enrolled"] and inst["adhesion_submissions"] == 1 and sim["email"] == target(1)
    assert events(simulator, "solver_reportbad") == [] and events(simulator, "captcha_rejected") == []


@pytest.mark.parametrize("family", ["new", "spa"])
def test_wrong_answers_are_reported_and_a_fresh_image_is_solved(browser_settings, simulator, family):
    simulator.admin.set_scenario({"variant": family, "captcha": "image", "solver_wrong_answers": 2})
    outcome, customer, _ = enrol(browser_settings, simulator, solver_policy(simulator, attempts=3))
    assert not isinstance(outcome, Exception), outcome
    assert outcome.state == "enrolled" and outcome.submissions == 1
    assert installation(simulator, customer)[1]["adhesion_submissions"] == 1
    assert len(events(simulator, "captcha_rejected")) == 2
    reported = [e["task_id"] for e in events(simulator, "solver_reportbad")]
    assert len(reported) == 2 and len(set(reported)) == 2  # each refused answer reported against its own task


def test_always_wrong_ends_in_captcha_refused_and_submits_nothing(browser_settings, simulator):
    simulator.admin.set_scenario({"variant": "legacy", "captcha": "image", "solver_wrong_answers": 99})
    outcome, customer, clicked = enrol(browser_settings, simulator, solver_policy(simulator, attempts=3))
    assert isinstance(outcome, CaptchaRefused), outcome
    assert outcome.step == "login" and "3 answers" in str(outcome)
    assert "captcha" in outcome.user_message and "recusou" in outcome.user_message  # pt-BR, for the dashboard
    sim, inst = installation(simulator, customer)
    assert inst["adhesion_submissions"] == 0 and not inst["enrolled"] and sim["email"] == "cliente1@example.com"
    assert len(events(simulator, "captcha_rejected")) == 3 and len(events(simulator, "solver_reportbad")) == 3
    # Never past the login form: only "Entrar" (three times) and the cookie banner were clicked.
    assert [c for c in clicked if not (matches("login_button", c) or matches("cookie_reject", c))] == []
    assert len([c for c in clicked if matches("login_button", c)]) == 3


def test_no_solver_and_nobody_at_the_browser_needs_a_person(browser_settings, simulator):
    simulator.admin.set_scenario({"variant": "new", "captcha": "image"})
    outcome, customer, _ = enrol(browser_settings, simulator, ChallengePolicy())
    assert isinstance(outcome, ChallengeRequired) and not isinstance(outcome, CaptchaRefused), outcome
    assert "image captcha" in str(outcome) and "--headed" in outcome.user_message
    assert installation(simulator, customer)[1]["adhesion_submissions"] == 0
    assert events(simulator, "captcha_rejected") == []


@pytest.mark.parametrize("family", ["agv", "spa"])
def test_a_person_types_the_characters_while_the_bot_waits(browser_settings, simulator, family):
    """The operator strategy: the bot fills login and password, a person reads the image, types it and submits;
    the first time they mistype it, so the bot waits again on the fresh image."""
    simulator.admin.set_scenario({"variant": family, "captcha": "image"})

    async def person(page) -> None:
        field = page.get_by_role("textbox", name="Digite o texto da imagem").or_(
            page.get_by_label("Letras e números da imagem"))
        password = page.locator("input[type=password]")
        for typed in ("errado", None):
            # The bot typed the login and put the cursor in the captcha's field: the person's turn. (Read from
            # the page itself: a web-first assertion would also run the bot's interstitial handler.)
            await page.wait_for_function("() => /captcha/i.test((document.activeElement || {}).name || '')",
                                         timeout=15_000)
            await field.fill(typed or simulator.admin.image_captcha_answer())
            await password.press("Enter")  # Enter from another field: the cursor leaves the captcha's field
            if typed:  # the refusal shows, then the bot types the password again into the fresh form
                await page.get_by_role("alert").wait_for(timeout=15_000)

    outcome, customer, _ = enrol(browser_settings, simulator, ChallengePolicy(operator_wait_s=20), person=person)
    assert not isinstance(outcome, Exception), outcome
    assert outcome.state == "enrolled" and outcome.submissions == 1
    assert len(events(simulator, "captcha_rejected")) == 1


def test_nobody_typing_the_characters_ends_in_challenge_required_within_the_bound(browser_settings, simulator):
    simulator.admin.set_scenario({"variant": "legacy", "captcha": "image"})
    outcome, customer, _ = enrol(browser_settings, simulator, ChallengePolicy(operator_wait_s=1))
    assert isinstance(outcome, ChallengeRequired) and "within 1 s" in str(outcome), outcome
    assert installation(simulator, customer)[1]["adhesion_submissions"] == 0


def test_sometimes_the_login_asks_for_the_image_and_the_solver_passes_both(browser_settings, simulator):
    """"captcha_frequency: sometimes": the first login has no captcha, the next one has the image."""
    simulator.admin.set_scenario({"variant": "new", "captcha": "image", "captcha_frequency": "sometimes"})
    first, _, _ = enrol(browser_settings, simulator, ChallengePolicy(), n=1)
    assert not isinstance(first, Exception), first
    second, _, _ = enrol(browser_settings, simulator, ChallengePolicy(), n=2)
    assert isinstance(second, ChallengeRequired), second
    third, _, _ = enrol(browser_settings, simulator, solver_policy(simulator), n=3)
    assert not isinstance(third, Exception), third
    assert third.state == "enrolled"
