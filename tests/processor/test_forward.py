"""The outbox's answer to a send whose outcome is unknown (a worker died between accept and commit)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.engine import session_scope
from storage.mail_models import Forward
from tests.processor.mime import bill_message


def _stored_with_pending_forward(world):
    unit = world.add_unit(1)
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10"))
    world.smtp.stop()
    world.poll()
    world.smtp.start()
    with session_scope(world.engine) as session:
        forward = session.exec(select(Forward)).one()
        forward.status, forward.attempts = "sending", 1  # as a worker killed mid-send leaves it
        session.add(forward)
        return forward.message_id


@pytest.mark.parametrize(("policy", "status", "sent"), [("resend", "sent", 1), ("park", "parked", 0)])
def test_an_interrupted_send_is_resent_with_the_same_message_id_or_parked(world, policy, status, sent):
    message_id = _stored_with_pending_forward(world)
    world.settings = world.settings.model_copy(update={"on_unconfirmed": policy})
    world.poll()
    with session_scope(world.engine) as session:
        forward = session.exec(select(Forward)).one()
    assert forward.status == status and forward.unconfirmed_sends == 1 and forward.message_id == message_id
    assert len(world.smtp.messages) == sent
    if sent:
        assert world.smtp.messages[0].message["Message-ID"] == message_id
    else:
        assert "outcome unknown" in forward.smtp_response
