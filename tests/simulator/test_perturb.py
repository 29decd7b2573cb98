"""Seeded perturbations: a pure function of (seed, family), and `solvable` says what the draw allows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from simulator.portal.perturb import (
    AGV_EMAIL_LABELS,
    CONTA_UNKNOWN,
    DEFAULTS,
    ENROL_UNKNOWN,
    FAMILIES,
    INTERSTITIALS,
    SERVER_RENDERED,
    Perturbation,
)
from tests.simulator.mui_pages import log_in

SEEDS = range(1, 400)
UNKNOWN = {ENROL_UNKNOWN[0].casefold(), CONTA_UNKNOWN[0].casefold()} | {
    label.casefold() for label, ok in AGV_EMAIL_LABELS if not ok}


@pytest.mark.parametrize("family", FAMILIES)
def test_a_seed_draws_the_same_perturbation_every_time(family):
    assert [Perturbation.of(s, family=family) for s in SEEDS] == [Perturbation.of(s, family=family) for s in SEEDS]
    assert len({repr(Perturbation.of(s, family=family)) for s in (1, 2, 3)}) == 3


def test_each_family_draws_its_own_wordings_and_spa_keeps_its_draws():
    assert Perturbation.of(7) == Perturbation.of(7, family="spa")
    draws = {family: [Perturbation.of(s, family=family).enrol_button for s in SEEDS] for family in SERVER_RENDERED}
    assert draws["new"] != draws["legacy"] != draws["agv"]
    assert all(Perturbation.of(s, family=f).family == f for f in FAMILIES for s in (0, 5))


@pytest.mark.parametrize("family", FAMILIES)
def test_seed_zero_is_the_familys_own_markup(family):
    plain = Perturbation.of(0, family=family)
    assert plain.solvable and not plain.delays and plain.confirm_email == "off" and not plain.title_as_text
    assert all(getattr(plain, name) == wording for name, wording in DEFAULTS[family].items())


@pytest.mark.parametrize("family", FAMILIES)
def test_solvable_is_false_exactly_when_a_wording_leaves_the_intent_open(family):
    many = [Perturbation.of(s, family=family) for s in SEEDS]
    for p in many:
        drawn = {p.enrol_button.casefold(), p.conta_card.casefold()}
        if family == "agv":
            drawn.add(p.email_label.casefold())
        assert p.solvable == (not drawn & UNKNOWN), p
    assert any(not p.solvable for p in many) and any(p.solvable for p in many)


@pytest.mark.parametrize("family", sorted(SERVER_RENDERED | {"mui"}))
def test_server_rendered_families_draw_late_content_casing_titles_and_the_email_confirmation(family):
    many = [Perturbation.of(s, family=family) for s in SEEDS]
    assert {p.confirm_email for p in many} == {"off", "code", "link"}
    assert {p.casing for p in many} == {"as_is", "upper", "lower"}
    assert any(p.title_as_text for p in many) and not all(p.title_as_text for p in many)
    assert any(p.mask_email for p in many) and not all(p.mask_email for p in many)
    delays = [d for p in many for d in p.delays.values()]
    assert delays and all(0.2 <= d <= 3.0 for d in delays)
    assert any(p.enrol_button.isupper() for p in many if p.casing == "upper")


def test_mui_draws_what_its_script_and_its_api_can_vary():
    many = [Perturbation.of(s, family="mui") for s in SEEDS]
    plain = Perturbation.of(0, family="mui")
    assert plain.mask_email and plain.scroll_terms and plain.enrol_button == "Quero aderir"  # today's markup
    assert {i for p in many for i in p.interstitials} == set(INTERSTITIALS)
    for dimension in ("reorder", "mask_email", "scroll_terms", "title_as_text"):
        assert {getattr(p, dimension) for p in many} == {True, False}, dimension
    assert {p.reauth for p in many} == {"off", "form", "dialog"}
    assert {p.enrol_button.casefold() for p in many} > {"quero aderir", ENROL_UNKNOWN[0].casefold()}
    # Its own stream: the same seed draws differently from the single-page family's.
    assert [Perturbation.of(s, family="mui").enrol_button for s in SEEDS] != [
        Perturbation.of(s).enrol_button for s in SEEDS]


def test_spa_never_draws_a_confirmation_the_single_page_family_cannot_ask_for():
    assert {Perturbation.of(s).confirm_email for s in SEEDS} == {"off"}


def test_an_unknown_family_is_left_as_it_is():
    assert Perturbation.of(9, family="enel") == Perturbation(seed=0, family="enel")


def _drawn_apart(family: str) -> int:
    """The first solvable seed whose wordings all differ from seed 0's (whatever the case), titles as paragraphs."""
    plain = Perturbation.of(0, family=family)
    for seed in SEEDS:
        p = Perturbation.of(seed, family=family)
        if p.solvable and p.title_as_text and all(
                getattr(p, name).casefold() != getattr(plain, name).casefold()
                for name in ("enrol_button", "conta_card", "access_link")):
            return seed
    raise AssertionError("no seed draws every wording apart")


@pytest.mark.browser
def test_a_mui_seed_renders_the_wordings_it_drew(simulator, page: Page):
    seed = _drawn_apart("mui")
    drawn, plain = Perturbation.of(seed, family="mui"), Perturbation.of(0, family="mui")
    simulator.admin.set_scenario({"variant": "mui"})
    customer = simulator.add_customer(scenario={"variant": "mui", "perturb_seed": seed})
    log_in(page, simulator, "123.456.789-09", customer.password)

    # The home's card carries the drawn title; seed 0's is gone.
    expect(page.get_by_text(drawn.conta_card, exact=True)).to_be_visible(timeout=10_000)
    expect(page.get_by_text(plain.conta_card, exact=True)).to_have_count(0)
    page.goto(simulator.url + "/app/servicos/conta-digital")
    # The drawn enrol button (MUI shows it upper-cased by CSS: its text is the drawn one), title a paragraph.
    enrol = page.get_by_role("button", name=re.compile(f"^{re.escape(drawn.enrol_button)}$", re.I))
    expect(enrol).to_be_visible(timeout=10_000)
    assert enrol.evaluate("e => e.textContent") == drawn.enrol_button
    expect(page.get_by_role("button", name=re.compile(f"^{re.escape(plain.enrol_button)}$", re.I))).to_have_count(0)
    expect(page.get_by_role("paragraph").filter(has_text=drawn.conta_card)).to_be_visible()
    expect(page.get_by_role("heading")).to_have_count(0)


@pytest.mark.browser
def test_a_mui_seed_sends_its_content_late_behind_a_busy_view(simulator, page: Page):
    seed = next(s for s in SEEDS if Perturbation.of(s, family="mui").delay("conta_digital") >= 1.5)
    simulator.admin.set_scenario({"variant": "mui"})
    customer = simulator.add_customer(scenario={"variant": "mui", "perturb_seed": seed})
    log_in(page, simulator, "123.456.789-09", customer.password)
    page.goto(simulator.url + "/app/servicos/conta-digital")
    busy = page.locator("main[aria-busy=true]")
    expect(busy).to_have_count(1)
    expect(busy.get_by_text("Carregando…")).to_be_visible()
    expect(page.get_by_role("progressbar")).to_be_visible()
    expect(busy).to_have_count(0, timeout=10_000)
    expect(page.get_by_text(re.compile("^Instalação 3000055479"))).to_be_visible()


@pytest.mark.browser
def test_a_mui_seed_adds_its_interstitials_over_the_home_once(simulator, page: Page):
    seed = next(s for s in SEEDS if Perturbation.of(s, family="mui").interstitials[:2] == ("nps", "lgpd"))
    simulator.admin.set_scenario({"variant": "mui"})
    customer = simulator.add_customer(scenario={"variant": "mui", "perturb_seed": seed})
    log_in(page, simulator, "123.456.789-09", customer.password)

    survey = page.get_by_role("dialog", name="Pesquisa de satisfação")
    expect(survey).to_be_visible()
    survey.get_by_role("button", name="fechar").click()
    privacy = page.get_by_role("dialog", name="Sua privacidade")
    expect(privacy).to_be_visible()
    privacy.get_by_role("button", name="Entendi").click()
    expect(privacy).to_be_hidden()
    page.reload()
    expect(page.get_by_text(re.compile("^Olá, "))).to_be_visible(timeout=10_000)
    page.wait_for_timeout(800)  # past the moment the interstitials would show again: a negative check
    expect(survey).to_have_count(0)
    expect(privacy).to_have_count(0)
