"""Seeded perturbations: a pure function of (seed, family), and `solvable` says what the draw allows."""

from __future__ import annotations

import pytest

from simulator.portal.perturb import (
    AGV_EMAIL_LABELS,
    CONTA_UNKNOWN,
    DEFAULTS,
    ENROL_UNKNOWN,
    FAMILIES,
    SERVER_RENDERED,
    Perturbation,
)

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


@pytest.mark.parametrize("family", sorted(SERVER_RENDERED))
def test_server_rendered_families_draw_late_content_casing_titles_and_the_email_confirmation(family):
    many = [Perturbation.of(s, family=family) for s in SEEDS]
    assert {p.confirm_email for p in many} == {"off", "code", "link"}
    assert {p.casing for p in many} == {"as_is", "upper", "lower"}
    assert any(p.title_as_text for p in many) and not all(p.title_as_text for p in many)
    assert any(p.mask_email for p in many) and not all(p.mask_email for p in many)
    delays = [d for p in many for d in p.delays.values()]
    assert delays and all(0.2 <= d <= 3.0 for d in delays)
    assert any(p.enrol_button.isupper() for p in many if p.casing == "upper")


def test_spa_never_draws_a_confirmation_the_single_page_family_cannot_ask_for():
    assert {Perturbation.of(s).confirm_email for s in SEEDS} == {"off"}


def test_an_unknown_family_is_left_as_it_is():
    assert Perturbation.of(9, family="enel") == Perturbation(seed=0, family="enel")
