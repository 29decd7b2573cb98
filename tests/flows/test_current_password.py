"""Saving the access e-mail asks for the current password (reference §4, §9.5 leave it open).

On every family, in the form itself or in a dialog after saving, the bot types the portal password there
and nowhere else: the simulator logs a digest of every submitted field, so the test sees each place the
password arrived. A password field the bot cannot place ("Nova senha") ends in PortalChanged with
evidence, the password typed nowhere but the login form.
"""

from __future__ import annotations

import random

import pytest
from playwright.async_api import async_playwright

from flows.base import AdhesionRequest
from flows.errors import PortalChanged
from simulator.portal.fields import digest
from simulator.portal.perturb import Perturbation
from tests.aio import run_async
from tests.factories import make_cpf
from tests.flows.test_families import run_once

pytestmark = pytest.mark.browser
LOGIN_FIELDS = {("/Login", "Senha"), ("/Login", "password"), ("/Login/Index", "Senha")}
CURRENT_PASSWORD_FIELDS = {("/DadosAcesso", "SenhaAtual"), ("/portal/api/acesso", "senha_atual"),
                           ("/app-api/acesso", "senhaAtual")}


def spa_seed(reauth: str) -> int:
    """The first solvable seed of the spa family whose access-data form asks for the password this way."""
    return next(s for s in range(1, 500) if Perturbation.of(s).reauth == reauth and Perturbation.of(s).solvable)


def where_password_arrived(simulator, password: str) -> list[tuple[str, str]]:
    """Every (path, field) the password was submitted in, in order."""
    secret = digest(password)
    return [(event["path"], name) for event in simulator.store.events() if event["kind"] == "fields_submitted"
            for name, value in event["fields"] if value == secret]


def enrol(browser_settings, simulator, family: str, scenario: dict, n: int):
    customer = simulator.add_customer(name="Maria Aparecida Souza", document=make_cpf(random.Random(n)),
                                      email=f"m{n}@example.com", password=f"Senha-Atual#{n}",
                                      installations=(f"30000554{n:02d}",), scenario={"variant": family, **scenario})
    request = AdhesionRequest(portal_login=customer.document, portal_password=customer.password,
                              installation=customer.installations[0], uc_code=None,
                              target_email=f"uc-{n}@faturas.example.com", holder_name=customer.name)

    async def go():
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**browser_settings.launch_options())
            try:
                return await run_once(browser, simulator.url, request)
            finally:
                await browser.close()

    outcome, _clicked = run_async(go())
    return customer, outcome


CASES = [(family, reauth) for family in ("new", "legacy", "agv", "mui") for reauth in ("form", "dialog")] + [
    ("spa", "form"), ("spa", "dialog")]


@pytest.mark.parametrize(("family", "reauth"), CASES)
def test_the_password_goes_into_the_current_password_field_only(browser_settings, simulator, family, reauth):
    scenario = {"perturb_seed": spa_seed(reauth)} if family == "spa" else {"reauth": reauth}
    customer, outcome = enrol(browser_settings, simulator, family, scenario, len(family) * 7 + len(reauth))
    assert not isinstance(outcome, Exception), outcome
    assert outcome.state == "enrolled" and outcome.submissions == 1
    (sim,) = [c for c in simulator.admin.report()["customers"] if c["id"] == customer.id]
    assert sim["email"].startswith("uc-")
    arrived = where_password_arrived(simulator, customer.password)
    assert [place for place in arrived if place in CURRENT_PASSWORD_FIELDS], arrived  # it did arrive there
    assert set(arrived) <= LOGIN_FIELDS | CURRENT_PASSWORD_FIELDS, arrived  # and nowhere else
    assert not [e for e in simulator.store.events(customer_id=customer.id) if e["kind"] == "current_password_rejected"]


@pytest.mark.parametrize("family", ["new", "agv", "mui"])
def test_a_password_field_it_cannot_place_ends_in_portal_changed(browser_settings, simulator, family):
    customer, outcome = enrol(browser_settings, simulator, family, {"reauth": "new_password"}, len(family))
    assert isinstance(outcome, PortalChanged), outcome
    assert outcome.evidence.get("aria_snapshot") and "Nova senha" in " ".join(outcome.evidence.get("rejected", []))
    assert set(where_password_arrived(simulator, customer.password)) <= LOGIN_FIELDS
    (sim,) = [c for c in simulator.admin.report()["customers"] if c["id"] == customer.id]
    assert sim["email"] == customer.email  # nothing saved
