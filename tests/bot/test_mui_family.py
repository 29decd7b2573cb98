"""The bot's captcha strategies on the Material-UI-like family (variant ``mui``), through the whole bot.

The family's other scenarios (invalid credentials, 503, expiry, installation not found, enrolled elsewhere)
run in tests/flows/test_families.py; these need the bot's settings (solver) and its saved sessions.
"""

from __future__ import annotations

import pytest

from config.context import AppContext
from storage.models import AdhesionStatus
from tests.bot.conftest import add_unit
from tests.bot.test_adhesion import run, sim_installation

pytestmark = pytest.mark.browser
MUI = {"variant": "mui", "post_login_modal": True}


def test_a_challenge_without_a_strategy_is_captcha_required(bot_app, simulator):
    simulator.admin.set_scenario({**MUI, "captcha": "checkbox"})
    unit_id = add_unit(bot_app, simulator.add_customer(scenario=MUI))
    (outcome,) = run(bot_app, [unit_id])
    assert outcome.status == AdhesionStatus.CAPTCHA_REQUIRED
    assert sim_installation(simulator)[1]["enrolled"] is False


def test_a_challenge_with_the_solver_is_enrolled_and_the_saved_session_skips_it_next_time(bot_app, simulator):
    simulator.admin.set_scenario({**MUI, "captcha": "checkbox"})
    customer = simulator.add_customer(scenario=MUI, installations=("3000055479", "3000055480"))
    settings = bot_app.settings.model_copy(update={"captcha_solver_url": f"{simulator.url}/solver",
                                                   "captcha_solver_key": simulator.solver_key})
    app = AppContext(settings=settings)
    try:
        first = add_unit(app, customer, installation="3000055479")
        second = add_unit(app, customer, installation="3000055480")
        assert run(app, [first])[0].status == AdhesionStatus.ENROLLED
        simulator.admin.set_scenario({**MUI, "captcha": "always-fail"})
        (outcome,) = run(app, [second])
    finally:
        app.close()
    assert outcome.status == AdhesionStatus.ENROLLED  # no login at all: the saved session was reused
    assert [sim_installation(simulator, n)[1]["adhesion_submissions"] for n in ("3000055479", "3000055480")] == [1, 1]
