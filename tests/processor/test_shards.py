"""Several workers share one inbox by UID shards: each shard under its own lease, every bill stored once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlmodel import select

from processor import pipeline as pipeline_module
from processor.pipeline import poll_once
from processor.types import Shard, mailbox_lease, outbox_lease
from storage.engine import session_scope
from storage.mail import acquire_lease, release_lease
from storage.mail_models import Forward, Invoice, MailMessage
from tests.processor.mime import bill_message

ELSEWHERE = "elsewhere:1:x"  # another host's live worker: its leases are never taken over early


def _hold(world, *shards: Shard) -> None:
    account = world.settings.accounts[0]
    with session_scope(world.engine) as session:
        for shard in shards:
            assert acquire_lease(session=session, name=mailbox_lease(account, shard), owner=ELSEWHERE, seconds=600)


def test_shards_split_uids_without_overlap_and_name_their_leases(world):
    account = world.settings.accounts[0]
    shards = [Shard(index=k, count=3) for k in range(3)]
    assert [sum(shard.owns(uid) for shard in shards) for uid in range(1, 50)] == [1] * 49
    assert [mailbox_lease(account, shard) for shard in shards] == [
        "imap:main:INBOX:0/3", "imap:main:INBOX:1/3", "imap:main:INBOX:2/3"]
    assert mailbox_lease(account) == mailbox_lease(account, Shard()) == "imap:main:INBOX"


def test_a_mailbox_whose_every_shard_is_leased_elsewhere_is_skipped(world):
    unit = world.add_unit(1)
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10"))
    _hold(world, *(Shard(index=k, count=world.settings.shards) for k in range(world.settings.shards)))
    report = world.poll()
    assert report.accounts[0].busy and report.outcomes == {} and world.counts()["INBOX"] == 1
    with session_scope(world.engine) as session:
        assert session.exec(select(MailMessage)).all() == []


def test_a_shard_held_by_another_worker_waits_while_the_other_shards_are_done(world):
    count = world.settings.shards
    units = [world.add_unit(n) for n in range(1, 9)]
    world.deliver(*(bill_message(u.inbox_address, u.installation, "2026-10") for u in units))
    held = Shard(index=1, count=count)
    _hold(world, held)

    first = world.poll()
    assert not first.accounts[0].busy  # some shards were free
    with session_scope(world.engine) as session:
        uids = [m.uid for m in session.exec(select(MailMessage))]
    assert uids and not any(held.owns(uid) for uid in uids)
    assert world.counts()["INBOX"] == 8 - len(uids) > 0
    assert len(world.smtp.messages) == len(uids)

    with session_scope(world.engine) as session:
        release_lease(session=session, name=mailbox_lease(world.settings.accounts[0], held), owner=ELSEWHERE)
    second = world.poll()
    assert second.outcomes == {"parsed": 8 - len(uids)}
    assert world.counts() == {"INBOX": 0, "Processed": 8, "Quarantine": 0}
    assert sorted(Counter(m.rcpt_tos for m in world.smtp.messages).values()) == [1] * 8


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_at_once_store_and_forward_every_bill_once_even_copies_in_other_shards(world):
    """Every bill arrives twice in a row, so its copies sit in neighbouring shards at the same rank: both
    workers store the same unit's month at the same moment. The unit's row lock makes the second one a
    duplicate at once; without it the second insert breaks the invoice's unique key and must be retried."""
    units = [world.add_unit(n) for n in range(1, 11)]
    bills = [bill_message(u.inbox_address, u.installation, cycle) for cycle in ("2026-09", "2026-10") for u in units]
    world.deliver(*(copy for bill in bills for copy in (bill, bill)))

    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            poll_once(world.pipeline())  # each Pipeline has its own lease owner
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors and not any(t.is_alive() for t in threads)
    world.poll()  # settles what waited for the other worker's outbox

    with session_scope(world.engine) as session:
        stages = Counter(m.stage for m in session.exec(select(MailMessage)))
        assert stages == {"parsed": 20, "duplicate": 20}, stages
        assert [m.attempts for m in session.exec(select(MailMessage))] == [1] * 40  # none failed and was retried
        assert len(session.exec(select(Invoice)).all()) == 20
    assert len(world.smtp.messages) == 20
    assert sorted(Counter((m.rcpt_tos, m.content.split(b"Subject:")[1][:80]) for m in world.smtp.messages)
                  .values()) == [1] * 20
    assert world.counts() == {"INBOX": 0, "Processed": 40, "Quarantine": 0}


def test_a_message_whose_forward_another_worker_finished_meanwhile_is_settled_in_the_same_pass(world, monkeypatch):
    """The shard settles before the other worker has sent its bill; the end of the pass settles it then."""
    unit = world.add_unit(1)
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10"))
    outbox = [outbox_lease(Shard(index=k, count=world.settings.shards)) for k in range(world.settings.shards)]
    with session_scope(world.engine) as session:  # the other worker holds the outbox: it sends this bill
        for name in outbox:
            assert acquire_lease(session=session, name=name, owner=ELSEWHERE, seconds=600)
    real_settle = pipeline_module.settle
    left = []

    def settle_then_the_other_worker_sends(**kwargs):
        moved = real_settle(**kwargs)
        with session_scope(world.engine) as session:
            forward = session.exec(select(Forward)).first()
            if forward is not None and not left:  # right after the settle of the bill's own shard
                left.append(world.counts()["INBOX"])
                forward.status = "sent"
                session.add(forward)
                for name in outbox:
                    release_lease(session=session, name=name, owner=ELSEWHERE)
        return moved

    monkeypatch.setattr(pipeline_module, "settle", settle_then_the_other_worker_sends)
    report = world.poll()

    account = world.settings.accounts[0]
    assert left == [1] and world.smtp.messages == []  # the shard's own settle had to leave it
    assert world.counts()["INBOX"] == 0 and world.counts()[account.processed] == 1
    assert report.accounts[0].settled == {account.processed: 1}
    with session_scope(world.engine) as session:
        assert session.exec(select(MailMessage)).one().settled_at is not None
