"""2026 bills through the real pipeline (Dovecot, SMTP, both databases): keyed by the UC code, not the installation.

From JAN/2026 CEMIG prints the national UC code and no installation number. A unit registered by its
installation learns its UC code from its first 2026 bill routed to it by its inbox address; after that,
a bill of another UC is a mismatch. A code that is another unit's is never learnt.
"""

from __future__ import annotations

import email
import email.policy

from sqlmodel import select

from simulator.bills.cemig2026 import format_uc
from storage.engine import session_scope
from storage.mail_models import Forward, Invoice, MailMessage
from storage.models import Unit
from tests.processor.mime import bill, bill_message


def _invoices(world) -> list[Invoice]:
    with session_scope(world.engine) as session:
        return list(session.exec(select(Invoice).order_by(Invoice.id)))


def _unit(world, unit_id: int) -> Unit:
    with session_scope(world.engine) as session:
        return session.get(Unit, unit_id)


def test_a_november_2026_cycle_is_parsed_stored_and_forwarded_by_uc_code(world):
    units = [world.add_unit(n) for n in (1, 2, 3)]
    generated = {unit.id: bill(unit.installation, "2026-11") for unit in units}
    assert all(g.bill.layout == "cemig-2026" and g.bill.installation is None for g in generated.values())
    world.deliver(*(bill_message(unit.inbox_address, unit.installation, "2026-11") for unit in units))

    report = world.poll()
    assert report.outcomes == {"parsed": 3}, report
    assert world.counts() == {"INBOX": 0, "Processed": 3, "Quarantine": 0}
    invoices = _invoices(world)
    assert [(i.status, i.layout, i.installation) for i in invoices] == [("parsed", "cemig-2026", None)] * 3
    by_unit = {invoice.unit_id: invoice for invoice in invoices}
    assert sorted(by_unit) == sorted(unit.id for unit in units)
    for unit in units:
        invoice, truth = by_unit[unit.id], generated[unit.id].bill
        assert invoice.uc_code == truth.uc_code
        assert str(invoice.amount_due) == truth.amount_due and invoice.reference_month == "2026-11"
        assert invoice.data["uc_code"] == truth.uc_code and invoice.data["history"][0]["month"] == "2026-11"
        learnt = _unit(world, unit.id)
        assert learnt.uc_code == truth.uc_code and learnt.installation == unit.installation
        assert learnt.adhesion_status == "verified"
    assert len(world.smtp.messages) == 3
    for sent in world.smtp.messages:
        forwarded = email.message_from_bytes(sent.content, policy=email.policy.default)
        assert "Fatura CEMIG 11/2026" in forwarded["Subject"]
        attachment = next(forwarded.iter_attachments())
        assert attachment.get_content().startswith(b"%PDF-")

    again = world.poll()
    assert again.outcomes == {} and len(world.smtp.messages) == 3


def test_after_learning_its_uc_code_a_bill_of_another_uc_needs_review(world):
    unit = world.add_unit(1)
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10"))
    world.poll()
    learnt = _unit(world, unit.id).uc_code
    assert learnt == bill(unit.installation, "2026-10").bill.uc_code

    world.deliver(bill_message(unit.inbox_address, "3000000999", "2026-11"))
    assert world.poll().outcomes == {"needs_review": 1}
    latest = _invoices(world)[-1]
    assert latest.status == "needs_review" and "installation_mismatch" in latest.review_reasons
    assert _unit(world, unit.id).uc_code == learnt  # never replaced
    assert len(world.smtp.messages) == 1  # only the first bill was forwarded


def test_a_uc_code_that_is_another_units_is_not_learnt_and_the_bill_waits_for_review(world):
    owner_code = bill("3000000777", "2026-11").bill.uc_code
    owner = world.add_unit(7, installation=None, uc_code=owner_code)
    other = world.add_unit(8)
    world.deliver(bill_message(other.inbox_address, "3000000777", "2026-11"))
    assert world.poll().outcomes == {"needs_review": 1}
    (invoice,) = _invoices(world)
    assert invoice.unit_id == other.id and "uc_code_of_another_unit" in invoice.review_reasons
    assert _unit(world, other.id).uc_code is None and _unit(world, owner.id).uc_code == owner_code
    with session_scope(world.engine) as session:
        message = session.exec(select(MailMessage)).one()
        assert message.stage == "needs_review" and "uc_code_of_another_unit" in (message.error or "")
        assert session.exec(select(Forward)).all() == []
    assert world.smtp.messages == [] and world.counts()["Quarantine"] == 1


def test_a_unit_registered_by_its_printed_uc_code_gets_its_2026_bills(world):
    code = bill("3000000555", "2026-11").bill.uc_code
    unit = world.add_unit(5, installation=format_uc(code))  # typed as printed, in the installation field
    assert (unit.installation, unit.uc_code) == (None, code)
    world.deliver(bill_message(unit.inbox_address, "3000000555", "2026-11"))
    assert world.poll().outcomes == {"parsed": 1}
    (sent,) = world.smtp.messages
    forwarded = email.message_from_bytes(sent.content, policy=email.policy.default)
    assert f"instalação {format_uc(code)}" in forwarded["Subject"]


def test_bills_before_and_after_january_2026_both_reach_the_client(world):
    unit = world.add_unit(1)
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2025-12"),
                  bill_message(unit.inbox_address, unit.installation, "2026-01"))
    assert world.poll().outcomes == {"parsed": 2}
    found = sorted((i.reference_month, i.layout, i.installation, i.uc_code is not None) for i in _invoices(world))
    assert found == [("2025-12", "cemig-nf3e-2024", unit.installation, False), ("2026-01", "cemig-2026", None, True)]
    assert len(world.smtp.messages) == 2
