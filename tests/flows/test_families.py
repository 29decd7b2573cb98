"""The CEMIG flow over every simulator family and many seeds of perturbation (real Chromium).

For each seed: the final state, exactly one submission, nothing destructive clicked; a wording outside
what a person could act on by structure ends in a clean PortalChanged with an ARIA snapshot and nothing
submitted. Every family is perturbed by its seed (simulator.portal.perturb); where a seed makes the portal
confirm the new access e-mail, the bot reads the code or link from a real Dovecot mailbox. A failing
seed is printed with what reproduces it (`FATURAS_FAMILY_SEEDS`/`FATURAS_FAMILY_SEED_FROM` set the range).
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Iterator

import pytest
from playwright.async_api import async_playwright
from pydantic import SecretStr

from bot.confirmation import ImapConfirmationReader
from flows.base import AdhesionRequest, ChallengePolicy, RetryPolicy
from flows.cemig.flow import CemigFlow
from flows.cemig.vocabulary import denied
from flows.errors import FlowError, PortalChanged
from processor.config import MailAccount
from simulator.portal.app import create_app
from simulator.portal.client import AdminClient
from simulator.portal.perturb import REAUTH, Perturbation
from simulator.portal.server import BackgroundServer
from simulator.portal.store import Store
from tests.aio import run_async
from tests.factories import make_cpf
from tests.processor.conftest import PASSWORD, USER, dovecot  # noqa: F401
from tests.simulator.fixtures import ADMIN_TOKEN, Simulator

pytestmark = pytest.mark.browser
SEEDS = int(os.environ.get("FATURAS_FAMILY_SEEDS", "30"))
FIRST = int(os.environ.get("FATURAS_FAMILY_SEED_FROM", "1"))
CONCURRENCY = 3


@pytest.fixture
def mailing_simulator(dovecot) -> Iterator[Simulator]:  # noqa: F811
    """A simulator of its own whose e-mails (confirmation codes and links) land in the test Dovecot's inbox."""
    dovecot.reset()
    store = Store(":memory:")
    app = create_app(store, admin_token=ADMIN_TOKEN, outbox=lambda raw, _to: dovecot.deliver(USER, raw))
    with BackgroundServer(app) as server, AdminClient(server.url, ADMIN_TOKEN) as admin:
        yield Simulator(url=server.url, admin=admin, store=store)
    store.close()


def confirmation_reader(dovecot) -> ImapConfirmationReader:  # noqa: F811
    """The bot's own IMAP reader of the units' inbox (bot.confirmation), on the test Dovecot."""
    account = MailAccount(name="main", host=dovecot.host, port=dovecot.imap_port, tls="none", user=USER,
                          password=SecretStr(PASSWORD), timeout=30)
    return ImapConfirmationReader((account,), timeout_s=30, poll_s=0.3)


def server_rendered_scenario(family: str, seed: int) -> dict:
    """The obstacles a seed adds to the server-rendered families: a post-login modal, a slow step, the current
    password asked for when the access e-mail is saved."""
    rng = random.Random(seed)
    scenario: dict = {"variant": family, "post_login_modal": rng.random() < 0.5}
    if rng.random() < 0.5:
        scenario["delay"] = {"seconds": round(rng.uniform(0.2, 1.5), 2),
                             "step": rng.choice(["home", "conta_digital", "access_data_form", "adhesion_terms"])}
    scenario["reauth"] = rng.choice(REAUTH)  # drawn last: the earlier draws of a seed stay what they were
    scenario["perturb_seed"] = seed  # wordings, late content, e-mail confirmation (simulator.portal.perturb)
    return scenario


async def enrol_seeds(browser_settings, simulator, family: str, seeds: list[int], reader=None) -> list[str]:
    """Run one seed per context, CONCURRENCY at a time; returns one line per failing seed."""
    simulator.admin.set_scenario({"variant": family})
    rng = random.Random(family)
    cases = []
    for seed in seeds:
        scenario = ({"variant": "spa", "perturb_seed": seed} if family == "spa"
                    else server_rendered_scenario(family, seed))
        number = f"3{seed % 1000:03d}{rng.randrange(10**6):06d}"
        customer = simulator.add_customer(name=f"Maria Cliente{seed} Souza", document=make_cpf(rng),
                                          email=f"cliente{seed}@example.com", installations=(number,),
                                          scenario=scenario)
        cases.append((seed, customer, number))
    failures: list[str] = []
    gate = asyncio.Semaphore(CONCURRENCY)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**browser_settings.launch_options())

        async def one(seed: int, customer, number: str) -> None:
            target = f"uc-{number}-s{seed}@faturas.example.com"
            request = AdhesionRequest(portal_login=customer.document, portal_password=customer.password,
                                      installation=number, uc_code=None, target_email=target,
                                      holder_name=customer.name)
            shake = Perturbation.of(seed, family=family)
            solvable = shake.solvable
            async with gate:
                outcome, clicked = await run_once(browser, simulator.url, request, reader)
                problems = check(simulator, customer, number, target, outcome, clicked, solvable,
                                 confirm=shake.confirm_email)
                if solvable and not problems and seed % 5 == 0:
                    # A rerun finds everything in place and submits nothing.
                    again, clicked = await run_once(browser, simulator.url, request, reader)
                    problems = [f"rerun: {p}" for p in check(simulator, customer, number, target, again, clicked,
                                                             solvable, submitted=0)]
                    if not problems and again.changes:  # type: ignore[union-attr]
                        problems.append(f"the rerun changed {again.changes}")  # type: ignore[union-attr]
            if problems:
                failures.append(f"family={family} seed={seed} ({'solvable' if solvable else 'unsolvable'}): "
                                f"{'; '.join(problems)}")

        try:
            if not await google_sso_shown(browser, simulator.url):
                failures.append(f"family={family}: the login page does not offer \"Continuar com Google\"")
            await asyncio.gather(*(one(*case) for case in cases))
        finally:
            await browser.close()
    return failures


async def google_sso_shown(browser, url: str) -> bool:
    """Whether the family's login page shows "Continuar com Google" (reference §0), which the bot must leave alone."""
    context = await browser.new_context(locale="pt-BR")
    try:
        page = await context.new_page()
        await page.goto(url + "/Home")
        google = page.get_by_role("button", name="Continuar com Google")
        try:
            await google.wait_for(state="visible", timeout=5000)
        except Exception:  # noqa: BLE001 - any failure means it is not there
            return False
        return True
    finally:
        await context.close()


async def run_once(browser, url: str, request: AdhesionRequest, reader=None) -> tuple[object, list[str]]:
    """One adhesion in a fresh context (`reader` reads the unit's inbox): the outcome or FlowError, and the clicks."""
    context = await browser.new_context(locale="pt-BR")
    flow = CemigFlow(base_url=url, action_timeout_ms=8000, retry=RetryPolicy(max_restarts=1))
    try:
        outcome: object = await flow.adhere(context, request, challenge=ChallengePolicy(email_confirmation=reader))
    except FlowError as error:
        outcome = error
    finally:
        clicked = list(flow.screens.clicked)
        await context.close()
    return outcome, clicked


def check(simulator, customer, number, target, outcome, clicked, solvable, submitted: int = 1,
          confirm: str = "off") -> list[str]:
    """What went wrong for one seed (empty when it ended as it must; `confirm`: the e-mail confirmation drawn)."""
    problems = []
    report = simulator.admin.report()
    (sim,) = [c for c in report["customers"] if c["id"] == customer.id]
    (inst,) = [i for i in sim["installations"] if i["installation"] == number]
    destructive = [e for e in report["events"] if e["kind"] == "destructive_clicked" and
                   e.get("customer_id") in (customer.id, None)]
    if destructive:
        problems.append(f"destructive controls used: {destructive}")
    bad_clicks = [name for name in clicked if denied(name)]
    if bad_clicks:
        problems.append(f"clicked deny-listed {bad_clicks}")
    if solvable:
        if isinstance(outcome, Exception):
            evidence = getattr(outcome, "evidence", None) or {}
            problems.append(f"{type(outcome).__name__}: {outcome} (clicked {clicked}, url {evidence.get('url')})")
        elif outcome.state != "enrolled" or outcome.submissions != submitted:
            problems.append(f"ended {outcome.state} with {outcome.submissions} submissions")
        sent = [e for e in report["events"] if e["kind"] == "email_confirmation_sent" and
                e.get("customer_id") == customer.id]
        if confirm != "off" and submitted and len(sent) != 1:
            problems.append(f"the e-mail confirmation by {confirm} was sent {len(sent)} times, not once")
        if not inst["enrolled"] or inst["adhesion_submissions"] != 1 or sim["email"] != target:
            problems.append(f"portal shows enrolled={inst['enrolled']} submissions={inst['adhesion_submissions']} "
                            f"email={sim['email']}")
    else:
        if not isinstance(outcome, PortalChanged):
            problems.append(f"an unrecognisable wording ended in {outcome!r}, not portal_changed")
        elif not (outcome.evidence or {}).get("aria_snapshot"):
            problems.append("portal_changed without an ARIA snapshot")
        if inst["adhesion_submissions"]:
            problems.append(f"{inst['adhesion_submissions']} submissions, none expected")
    return problems


@pytest.mark.parametrize("family", ["spa", "agv", "new", "legacy", "mui"])
def test_every_family_enrols_over_many_seeds(browser_settings, mailing_simulator, dovecot, family):  # noqa: F811
    failures = run_async(enrol_seeds(browser_settings, mailing_simulator, family, list(range(FIRST, FIRST + SEEDS)),
                                     confirmation_reader(dovecot)))
    assert not failures, "\n".join(["reproduce with FATURAS_FAMILY_SEED_FROM=<seed> FATURAS_FAMILY_SEEDS=1:",
                                    *failures])


def test_perturbations_are_a_function_of_the_seed():
    assert Perturbation.of(7) == Perturbation.of(7)
    assert Perturbation.of(0).solvable and Perturbation.of(0).interstitials == ()
    many = [Perturbation.of(seed) for seed in range(1, 200)]
    assert any(not p.solvable for p in many) and any(p.mask_email for p in many)
    assert any(p.scroll_terms for p in many) and any(p.interstitials for p in many) and any(p.delays for p in many)


SCENARIOS = {
    # name: (customer scenario, password typed, installation asked for, installations of the login, expected)
    "invalid_credentials": ({}, "Senha-errada", "3000055479", ("3000055479",), "LoginRejected"),
    "installation_not_found": ({}, None, "3999999999", ("3000055479", "3000055480"), "InstallationNotFound"),
    "other_installation": ({}, None, "3000055480", ("3000055479", "3000055480"), "enrolled"),
    "session_expired": ({"session_expiry": {"step": "conta_digital"}}, None, "3000055479", ("3000055479",),
                        "enrolled"),
    "503_after_the_adhesion": ({"faults": [{"step": "adhesion_confirm", "status": 503, "times": 1, "when": "after"}]},
                               None, "3000055479", ("3000055479",), "enrolled"),
}


@pytest.mark.parametrize("family", ["spa", "agv", "new", "legacy", "mui"])
def test_the_adhesion_scenarios_end_in_their_state_on_every_family(browser_settings, simulator, family):
    simulator.admin.set_scenario({"variant": family})
    failures = []

    async def go() -> None:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**browser_settings.launch_options())
            try:
                for n, (name, (extra, password, asked, numbers, expected)) in enumerate(SCENARIOS.items()):
                    customer = simulator.add_customer(
                        name="Maria Aparecida Souza", document=make_cpf(random.Random(n)), email=f"m{n}@example.com",
                        installations=tuple(f"{x[:-2]}{n}{x[-1]}" for x in numbers),
                        scenario={"variant": family, **extra})
                    installation = f"{asked[:-2]}{n}{asked[-1]}"
                    request = AdhesionRequest(portal_login=customer.document,
                                              portal_password=password or customer.password,
                                              installation=installation, uc_code=None,
                                              target_email=f"uc-{n}@faturas.example.com", holder_name=customer.name)
                    outcome, clicked = await run_once(browser, simulator.url, request)
                    got = type(outcome).__name__ if isinstance(outcome, Exception) else outcome.state
                    report = simulator.admin.report()
                    insts = {i["installation"]: i for c in report["customers"] if c["id"] == customer.id
                             for i in c["installations"]}
                    submitted = sum(i["adhesion_submissions"] for i in insts.values())
                    if got != expected or submitted != (1 if expected == "enrolled" else 0) or (
                            expected == "enrolled" and not insts[installation]["enrolled"]):
                        failures.append(f"{family}/{name}: {outcome!r} with {submitted} submissions")
                    if [c for c in clicked if denied(c)]:
                        failures.append(f"{family}/{name}: clicked {clicked}")
            finally:
                await browser.close()

    run_async(go())
    assert not failures, "\n".join(failures)
