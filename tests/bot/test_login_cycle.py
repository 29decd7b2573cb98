"""Logins with 1, 3 and 12 installations, the whole cycle (real Chromium, simulator, Dovecot, SMTP, both databases).

discover → register (per installation, its own recipients) → enrol all (one e-mail change per login, one
submission per installation) → the simulator's billing cycle mails every enrolled installation's bill to its
login's one access e-mail → each bill is stored under its own unit and forwarded to that unit's recipients.
The 3-installation login is a generating unit with two beneficiaries, billed with 35 % and 30 % of its
injection; the 12-installation login holds two customers (CNPJs), one suspended installation (listed, not
offered) and one the client had enrolled by hand but the integrator left unregistered: its bill waits, then
is processed once the unit is added. A rerun of enrolment for any unit changes nothing at the portal.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
from collections import Counter
from decimal import Decimal

import pytest
from sqlmodel import select

from bot.adhesion import AdhesionOptions
from bot.discovery import DiscoveryStatus, discover_login
from simulator.bills.generator import generate_bill
from simulator.mailer import build_bill_message
from storage.discovery import discovery_view, register_discovered
from storage.engine import session_scope
from storage.logins import waiting_messages
from storage.mail_models import Invoice
from storage.models import AdhesionStatus, Unit
from storage.units import register_waiting_installation
from tests.aio import run_async
from tests.bot.conftest import add_unit
from tests.bot.test_adhesion import run
from tests.processor.conftest import dovecot, mail, smtp_server, world  # noqa: F401 - pipeline fixtures
from tests.processor.mime import SENDER, cemig_key

pytestmark = pytest.mark.browser
ACME, BETA = "11222333000181", "44555666000181"
SUSPENDED, UNREGISTERED = "3000017011", "3000017010"
PLANT, BENEFICIARIES = "3000017002", {"3000017003": 35, "3000017004": 30}
PORTAL_CHANGES = ("email_changed", "adhesion_submitted", "enrolled")


def _cycle(simulator, cycle: str) -> list[bytes]:
    """The simulator's billing cycle as the bill mailer builds it, one message per enrolled installation.

    The plant keeps 35 % of its injection; its two beneficiaries receive 35 % and 30 % (the "rateio"), so their
    bills print the credits they received.
    """
    from simulator.bills.profile import profile_from_json

    profiles = [profile_from_json(data) for data in simulator.admin._call("GET", "/profiles")]
    by_number = {p.installation: p for p in profiles}
    plant = dataclasses.replace(by_number[PLANT], credit_share=Decimal(35))
    shared = {PLANT: plant, **{number: dataclasses.replace(by_number[number], has_generation=False, plant=plant,
                                                           credit_share=Decimal(share))
                               for number, share in BENEFICIARIES.items()}}
    messages = []
    for profile in (shared.get(p.installation, p) for p in profiles):
        message = build_bill_message(profile, generate_bill(profile, cycle), sender=SENDER, dkim_key=cemig_key())
        messages.append(message.as_bytes(policy=email.policy.SMTP))
    return messages


def _portal_logins(simulator):
    """Three simulator logins: 1 installation; a generator and 2 beneficiaries; 12 of two CNPJs."""
    one = simulator.add_customer(name="Casa Um", document=None, email="um@example.com", installations=())
    simulator.admin.add_installation(one.id, "3000017001", holder_document="529.982.247-25", holder_name="Casa Um")
    one.installations.append("3000017001")
    three = simulator.add_customer(name="Usina Tres", document=None, email="tres@example.com", installations=())
    for number, generating in (("3000017002", True), ("3000017003", False), ("3000017004", False)):
        simulator.admin.add_installation(three.id, number, has_generation=generating,
                                         holder_document="529.982.247-25", holder_name="Usina Tres")
    three.installations.extend(["3000017002", "3000017003", "3000017004"])
    twelve = simulator.add_customer(name="Grupo Solar", document=None, email="doze@example.com", installations=())
    for i in range(12):
        number = f"30000170{i + 12:02d}" if i else "3000017005"
        number = {10: UNREGISTERED, 11: SUSPENDED}.get(i, number)
        document, name = ("11.222.333/0001-81", "ACME ENERGIA LTDA") if i < 7 else ("44.555.666/0001-81", "BETA")
        simulator.admin.add_installation(twelve.id, number, holder_document=document, holder_name=name,
                                         status="Suspensa" if number == SUSPENDED else "Ativa",
                                         enrolled=number == UNREGISTERED)  # enrolled by the client, by hand
    twelve.installations.append("3000017005")
    return one, three, twelve


def _changes(simulator, customer_id: int) -> Counter:
    return Counter(e["kind"] for e in simulator.admin.report()["events"]
                   if e["customer_id"] == customer_id and e["kind"] in PORTAL_CHANGES)


def test_logins_of_1_3_and_12_installations_from_discovery_to_forwarded_bills(bot_app, simulator, world):  # noqa: F811
    customers = _portal_logins(simulator)
    options = AdhesionOptions(concurrency=1, attempts=1, backoff_s=0.2)
    login_ids, registered = [], {}
    for customer in customers:
        first = customer.installations[0]
        unit_id = add_unit(bot_app, customer, installation=first, forward_to=[f"dono-{first}@example.com"],
                           holder_document=ACME if customer.name == "Grupo Solar" else "52998224725")
        registered[first] = unit_id
        with session_scope(bot_app.engine) as session:
            login_id = session.get(Unit, unit_id).portal_login_id
        login_ids.append(login_id)
        outcome = run_async(discover_login(bot_app, login_id, options))
        assert outcome.status == DiscoveryStatus.DONE, outcome.message
        with session_scope(bot_app.engine) as session:
            view = discovery_view(session=session, login_id=login_id)
            offered = [i.installation for i in view.installations if i.preselected]
            for number in offered:
                if number == UNREGISTERED:
                    continue  # the integrator unticks it: it stays unregistered
                (unit,) = register_discovered(session=session, login_id=login_id, chosen=[number],
                                              keys=bot_app.keys(), inbox=bot_app.inbox_policy,
                                              forward_to=[f"dono-{number}@example.com"])
                registered[number] = unit.id
        listed = {i.installation: i for i in view.installations}
        assert len(listed) == {"Casa Um": 1, "Usina Tres": 3, "Grupo Solar": 12}[customer.name]
    twelve = listed
    assert twelve[SUSPENDED].status == "Suspensa" and not twelve[SUSPENDED].preselected
    assert Counter(i.customer_document for i in twelve.values()) == {ACME: 7, BETA: 5}
    assert len(registered) == 1 + 3 + 10  # the suspended and the unticked installations are not units

    with session_scope(bot_app.engine) as session:
        units = list(session.exec(select(Unit)))
        login_of = {u.installation: u.portal_login_id for u in units}
        inboxes = [{u.inbox_address for u in units if u.portal_login_id == login_id} for login_id in login_ids]
        assert [len(addresses) for addresses in inboxes] == [1, 1, 1]  # one inbox per login
        assert {u.installation: u.holder_document for u in units}["3000017020"] == BETA  # as the portal listed

    outcomes = run(bot_app, list(registered.values()), concurrency=1, attempts=1)
    assert Counter((o.status, o.submissions) for o in outcomes) == {(AdhesionStatus.ENROLLED, 1): 14}
    for customer, login_id in zip(customers, login_ids, strict=True):
        enrolled = sum(1 for n in registered if login_of[n] == login_id)
        assert _changes(simulator, customer.id) == {"email_changed": 1, "adhesion_submitted": enrolled,
                                                    "enrolled": enrolled}, customer.name

    messages = _cycle(simulator, "2025-10")
    assert len(messages) == 14 + 1  # every enrolled installation, the hand-enrolled unregistered one too
    world.deliver(*messages)
    assert world.poll(keys=bot_app.keys()).outcomes == {"parsed": 14, "unregistered_installation": 1}
    with session_scope(bot_app.engine) as session:
        stored = {(i.unit_id, i.installation) for i in session.exec(select(Invoice))}
        (waiting,) = waiting_messages(session=session)
    assert stored == {(unit_id, number) for number, unit_id in registered.items()}
    forwarded = Counter(str(email.message_from_bytes(s.content, policy=email.policy.default)["To"])
                        for s in world.smtp.messages)
    assert forwarded == {f"dono-{n}@example.com": 1 for n in registered}
    with session_scope(bot_app.engine) as session:  # each beneficiary's bill shows the credits it received
        compensated = {i.installation: i.compensated_kwh for i in session.exec(select(Invoice))
                       if i.installation in BENEFICIARIES}
    assert set(compensated) == set(BENEFICIARIES) and all(kwh and kwh > 0 for kwh in compensated.values())

    with session_scope(bot_app.engine) as session:  # "Cadastrar esta instalação" for the waiting bill
        added = register_waiting_installation(session=session, message_id=waiting.id, keys=bot_app.keys(),
                                              inbox=bot_app.inbox_policy,
                                              overrides={"forward_to": ["dono-fazenda@example.com"]})
        added_id = added.id
    assert world.poll(keys=bot_app.keys()).outcomes == {"parsed": 1}
    assert world.poll(keys=bot_app.keys()).outcomes == {}  # processed once
    with session_scope(bot_app.engine) as session:
        assert [i.installation for i in session.exec(select(Invoice).where(Invoice.unit_id == added_id))] == [
            UNREGISTERED]
    assert sum(1 for s in world.smtp.messages if "dono-fazenda@example.com" in str(
        email.message_from_bytes(s.content, policy=email.policy.default)["To"])) == 1

    before = {c.id: _changes(simulator, c.id) for c in customers}
    rerun = [registered[c.installations[0]] for c in customers] + [registered["3000017020"], added_id]
    again = run(bot_app, rerun, concurrency=1, attempts=1)
    assert [o.submissions for o in again] == [0] * len(rerun)
    assert {c.id: _changes(simulator, c.id) for c in customers} == before  # nothing changed at the portal
    with session_scope(bot_app.engine) as session:  # their bills came: a rerun does not undo `verified`
        assert [session.get(Unit, unit_id).adhesion_status for unit_id in rerun] == ["verified"] * len(rerun)
