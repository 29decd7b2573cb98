"""Saved browser sessions and live contexts never serve a unit their credentials did not open (issue 14, items 1, 3).

The real bot against the simulator: a unit registered with another unit's portal login and a wrong
password must fail at the login (`invalid_credentials`), never ride on the other unit's session and
enrol, and the portal's access e-mail must stay the first unit's inbox address.
"""

from __future__ import annotations

import pytest

from bot.adhesion import AdhesionOptions, adhere_units
from storage.engine import session_scope
from storage.integrators import create_integrator
from storage.models import AdhesionStatus, UnitCreate
from storage.units import create_unit, get_unit
from tests.aio import run_async

pytestmark = pytest.mark.browser


def _run(app, ids):
    return run_async(adhere_units(app, ids, AdhesionOptions(backoff_s=0.2)))


def _integrator(app, email: str) -> int:
    with session_scope(app.engine) as session:
        return create_integrator(session=session, email=email, password_hash="x").id


def _unit(app, customer, installation: str, *, password: str, integrator_id: int | None) -> int:
    data = {"installation": installation, "client_name": customer.name, "holder_document": "52998224725",
            "portal_login": customer.document or customer.email, "portal_password": password,
            "forward_to": ["cliente@example.com"]}
    with session_scope(app.engine) as session:
        return create_unit(session=session, unit_in=UnitCreate(**data), keys=app.keys(), inbox=app.inbox_policy,
                           integrator_id=integrator_id).id


def _inbox(app, unit_id: int) -> str:
    with session_scope(app.engine) as session:
        return get_unit(session=session, ref=unit_id).inbox_address


def _portal(simulator, customer_id):
    (customer,) = [c for c in simulator.admin.report()["customers"] if c["id"] == customer_id]
    return customer["email"], {i["installation"]: i["enrolled"] for i in customer["installations"]}


def test_another_integrator_with_a_wrong_password_never_rides_on_the_saved_session(bot_app, simulator):
    customer = simulator.add_customer(installations=("3000055479", "3000055480"))
    victim = _unit(bot_app, customer, "3000055479", password=customer.password,
                   integrator_id=_integrator(bot_app, "a@integradora-a.example.com"))
    assert _run(bot_app, [victim])[0].status == AdhesionStatus.ENROLLED
    attacker = _unit(bot_app, customer, "3000055480", password="not-the-password",
                     integrator_id=_integrator(bot_app, "b@integradora-b.example.com"))
    (outcome,) = _run(bot_app, [attacker])
    assert outcome.status == AdhesionStatus.INVALID_CREDENTIALS
    email, enrolled = _portal(simulator, customer.id)
    assert email == _inbox(bot_app, victim)  # A's client's bills still go to A's unit
    assert enrolled == {"3000055479": True, "3000055480": False}


def test_another_integrator_with_the_right_password_does_not_reuse_the_saved_session(bot_app, simulator):
    customer = simulator.add_customer(installations=("3000055479", "3000055480"))
    first = _unit(bot_app, customer, "3000055479", password=customer.password,
                  integrator_id=_integrator(bot_app, "a@integradora-a.example.com"))
    assert _run(bot_app, [first])[0].status == AdhesionStatus.ENROLLED
    simulator.admin.set_scenario({"captcha": "always-fail"})  # only a fresh login would meet the challenge
    second = _unit(bot_app, customer, "3000055480", password=customer.password,
                   integrator_id=_integrator(bot_app, "b@integradora-b.example.com"))
    (outcome,) = _run(bot_app, [second])
    assert outcome.status == AdhesionStatus.CAPTCHA_REQUIRED  # it had to log in itself


def test_a_wrong_password_given_later_for_the_login_does_not_reuse_the_session_of_the_right_one(
        bot_app, simulator):
    """A login holds one password (its units' only copy, migration 0015): a second unit registered with
    another password replaces it, and the session the right password opened is not lent to the wrong one."""
    customer = simulator.add_customer(installations=("3000055479", "3000055480"))
    integrator = _integrator(bot_app, "a@integradora-a.example.com")
    good = _unit(bot_app, customer, "3000055479", password=customer.password, integrator_id=integrator)
    (first,) = _run(bot_app, [good])
    assert first.status == AdhesionStatus.ENROLLED
    wrong = _unit(bot_app, customer, "3000055480", password="not-the-password", integrator_id=integrator)
    (second,) = _run(bot_app, [wrong])  # the saved session of the right password is not lent
    assert second.status == AdhesionStatus.INVALID_CREDENTIALS
    (again,) = _run(bot_app, [good])  # the login's password is the wrong one now, for every unit of it
    assert again.status == AdhesionStatus.INVALID_CREDENTIALS
    email, enrolled = _portal(simulator, customer.id)
    assert email == _inbox(bot_app, good)
    assert enrolled == {"3000055479": True, "3000055480": False}
