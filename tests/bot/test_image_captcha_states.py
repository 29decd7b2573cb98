"""The bot's states for the login's image captcha: the configured solver wired in, refusals end in captcha_required."""

from __future__ import annotations

import pytest

from bot.adhesion import AdhesionOptions, adhere_units
from config.context import AppContext
from storage.models import AdhesionStatus
from tests.aio import run_async
from tests.bot.conftest import add_unit

pytestmark = pytest.mark.browser


def with_solver(app: AppContext, simulator) -> AppContext:
    return AppContext(settings=app.settings.model_copy(update={
        "captcha_solver_url": f"{simulator.url}/solver", "captcha_solver_key": simulator.solver_key,
        "captcha_image_attempts": 2}))


def kinds(simulator) -> list[str]:
    return [e["kind"] for e in simulator.admin.report()["events"]]


def test_the_configured_solver_reads_the_image_and_reports_its_wrong_answer(bot_app, simulator):
    simulator.admin.set_scenario({"captcha": "image", "solver_wrong_answers": 1})
    customer = simulator.add_customer()
    app = with_solver(bot_app, simulator)
    try:
        (outcome,) = run_async(adhere_units(app, [add_unit(app, customer)], AdhesionOptions(backoff_s=0.2)))
    finally:
        app.close()
    assert outcome.status == AdhesionStatus.ENROLLED, outcome.message
    assert kinds(simulator).count("solver_reportbad") == 1


def test_answers_refused_every_time_end_in_captcha_required_with_a_message_in_portuguese(bot_app, simulator):
    simulator.admin.set_scenario({"captcha": "image", "solver_wrong_answers": 99})
    customer = simulator.add_customer()
    app = with_solver(bot_app, simulator)
    try:
        (outcome,) = run_async(adhere_units(app, [add_unit(app, customer)], AdhesionOptions(backoff_s=0.2,
                                                                                             attempts=1)))
    finally:
        app.close()
    assert outcome.status == AdhesionStatus.CAPTCHA_REQUIRED
    assert "O portal recusou as respostas dadas ao captcha" in outcome.message
    assert kinds(simulator).count("captcha_rejected") == 2 and kinds(simulator).count("solver_reportbad") == 2
    (sim,) = simulator.admin.report()["customers"]
    assert sim["installations"][0]["adhesion_submissions"] == 0 and sim["email"] == customer.email
