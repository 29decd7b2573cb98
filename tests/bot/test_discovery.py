"""Discovery with real Chromium and the simulator, on both databases: list a login's installations, register
the chosen ones as units of the login sharing its inbox."""

from __future__ import annotations

import asyncio

import pytest

from bot.adhesion import AdhesionOptions
from bot.discovery import DiscoveryStatus, discover_login
from storage.discovery import discovery_view, register_discovered
from storage.engine import session_scope
from storage.errors import UnitInputError
from storage.models import Unit
from tests.bot.conftest import add_unit

pytestmark = pytest.mark.browser
OPTIONS = AdhesionOptions(concurrency=1, attempts=1, backoff_s=0.2)
ACME, BETA = "11222333000181", "44555666000181"


def _discover(app, login_id):
    return asyncio.run(discover_login(app, login_id, OPTIONS))


def _login_of(app, unit_id) -> int:
    with session_scope(app.engine) as session:
        return session.get(Unit, unit_id).portal_login_id


def test_three_installations_one_suspended_then_register_the_missing_active_one(bot_app, simulator):
    customer = simulator.add_customer(installations=())
    for number, status in (("3000010001", "Ativa"), ("3000010002", "Suspensa"), ("3000010003", "Ativa")):
        simulator.admin.add_installation(customer.id, number, status=status,
                                         address_lines=[f"RUA {number[-1]} 10", "CENTRO", "30110-000 BH - MG"])
    first = add_unit(bot_app, customer, installation="3000010001")
    login_id = _login_of(bot_app, first)

    outcome = _discover(bot_app, login_id)
    assert outcome.status == DiscoveryStatus.DONE, outcome.message
    listed = {i.installation: i for i in outcome.installations}
    assert sorted(listed) == ["3000010001", "3000010002", "3000010003"]
    for number, item in listed.items():
        assert item.uc_code == simulator.admin.installation(number)["uc_code"]
        assert item.address is not None and item.address.startswith(f"RUA {number[-1]} 10")
    assert {n: i.status for n, i in listed.items()} == {"3000010001": "Ativa", "3000010002": "Suspensa",
                                                        "3000010003": "Ativa"}

    with session_scope(bot_app.engine) as session:
        view = discovery_view(session=session, login_id=login_id)
        assert view.discovered_at is not None
        rows = {i.installation: (i.unit_id, i.preselected) for i in view.installations}
        assert rows == {"3000010001": (first, False), "3000010002": (None, False), "3000010003": (None, True)}
        with pytest.raises(UnitInputError):
            register_discovered(session=session, login_id=login_id, chosen=["3000010001"], keys=bot_app.keys(),
                                inbox=bot_app.inbox_policy)
    with session_scope(bot_app.engine) as session:
        created = register_discovered(session=session, login_id=login_id, chosen=["3000010003"],
                                      keys=bot_app.keys(), inbox=bot_app.inbox_policy)
        shared = session.get(Unit, first).inbox_address
        assert [(u.installation, u.portal_login_id, u.inbox_address, u.holder_document, u.forward_to)
                for u in created] == [("3000010003", login_id, shared, "12345678909", ["cliente@example.com"])]
        assert created[0].uc_code == listed["3000010003"].uc_code  # the holder document is the one listed


def test_twelve_installations_of_two_customers_on_the_legacy_portal(bot_app, simulator):
    simulator.admin.set_scenario({"variant": "legacy"})
    customer = simulator.add_customer(name="Grupo Solar", document=None, email="grupo@example.com",
                                      installations=())
    for i in range(12):
        document, name = ("11.222.333/0001-81", "ACME ENERGIA LTDA") if i < 7 else ("44.555.666/0001-81", "BETA")
        simulator.admin.add_installation(customer.id, f"30000200{i:02d}", holder_document=document,
                                         holder_name=name, status="Encerrada" if i == 11 else "Ativa")
    customer.installations.append("3000020000")
    first = add_unit(bot_app, customer, holder_document=ACME)
    login_id = _login_of(bot_app, first)

    outcome = _discover(bot_app, login_id)
    assert outcome.status == DiscoveryStatus.DONE, outcome.message
    assert len(outcome.installations) == 12
    documents = [i.customer_document for i in outcome.installations]
    assert documents.count(ACME) == 7 and documents.count(BETA) == 5
    with session_scope(bot_app.engine) as session:
        view = discovery_view(session=session, login_id=login_id)
        offered = [i.installation for i in view.installations if i.preselected]
        assert offered == [f"30000200{i:02d}" for i in range(1, 11)]  # registered one and the closed one left out
        created = register_discovered(session=session, login_id=login_id, chosen=offered, keys=bot_app.keys(),
                                      inbox=bot_app.inbox_policy)
        assert len({u.inbox_address for u in created} | {session.get(Unit, first).inbox_address}) == 1
        assert [u.holder_document for u in created].count(BETA) == 4
        assert {u.portal_login_id for u in created} == {login_id}
    with session_scope(bot_app.engine) as session:
        assert [i.installation for i in discovery_view(session=session, login_id=login_id).missing] == ["3000020011"]


def test_a_login_without_password_asks_for_it(bot_app, simulator):
    customer = simulator.add_customer()
    unit = add_unit(bot_app, customer, portal_password=None)
    outcome = _discover(bot_app, _login_of(bot_app, unit))
    assert outcome.status == DiscoveryStatus.PASSWORD_REQUIRED
    assert "Informe a senha" in outcome.message
    assert "logged_in" not in {e["kind"] for e in simulator.store.events(customer_id=customer.id)}  # no browser
