"""One login, three installations, the whole cycle (real Chromium, simulator, Dovecot, SMTP, both databases).

register → enrol all (one e-mail change, one submission per installation) → the simulator's billing cycle
mails every installation's bill to the login's one access e-mail → each bill is stored under its own unit
and forwarded to that unit's recipients. (A bill of an installation not registered yet is
tests/processor/test_login_routing.py.)
"""

from __future__ import annotations

import email
import email.policy

import pytest
from sqlmodel import select

from simulator.bills.generator import generate_bill
from simulator.mailer import build_bill_message
from storage.engine import session_scope
from storage.mail_models import Invoice
from storage.models import AdhesionStatus
from tests.bot.conftest import add_unit
from tests.bot.test_adhesion import run
from tests.processor.conftest import dovecot, mail, smtp_server, world  # noqa: F401 - pipeline fixtures
from tests.processor.mime import SENDER, cemig_key

pytestmark = pytest.mark.browser
NUMBERS = ("3000055479", "3000055480", "3000055481")


def _cycle(simulator, cycle: str) -> list[bytes]:
    """The simulator's billing cycle as the bill mailer builds it, one message per enrolled installation."""
    from simulator.bills.profile import InstallationProfile

    messages = []
    for data in simulator.admin._call("GET", "/profiles"):
        profile = InstallationProfile(**{**data, "address_lines": tuple(data["address_lines"])})
        message = build_bill_message(profile, generate_bill(profile, cycle), sender=SENDER, dkim_key=cemig_key())
        messages.append(message.as_bytes(policy=email.policy.SMTP))
    return messages


def test_one_login_three_installations_from_enrolment_to_forwarded_bills(bot_app, simulator, world):  # noqa: F811
    customer = simulator.add_customer(installations=(*NUMBERS, "3000055482"))
    ids = [add_unit(bot_app, customer, installation=n, forward_to=[f"dono-{n}@example.com"]) for n in NUMBERS]
    outcomes = run(bot_app, ids)
    assert [(o.status, o.submissions) for o in outcomes] == [(AdhesionStatus.ENROLLED, 1)] * 3
    report = simulator.admin.report()
    changes = [e for e in report["events"] if e["kind"] == "email_changed" and e["customer_id"] == customer.id]
    assert len(changes) == 1
    inbox = changes[0]["new"]

    messages = _cycle(simulator, "2025-10")
    assert len(messages) == 3  # the fourth installation is not enrolled: the portal mails nothing for it
    assert all(inbox in m.decode("ascii", "replace") for m in messages)
    world.deliver(*messages)
    assert world.poll(keys=bot_app.keys()).outcomes == {"parsed": 3}
    with session_scope(world.engine) as session:
        stored = {(i.unit_id, i.installation) for i in session.exec(select(Invoice))}
    assert stored == set(zip(ids, NUMBERS, strict=True))
    forwarded = {str(email.message_from_bytes(s.content, policy=email.policy.default)["To"])
                 for s in world.smtp.messages}
    assert forwarded == {f"dono-{n}@example.com" for n in NUMBERS}
