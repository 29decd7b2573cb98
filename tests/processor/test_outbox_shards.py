"""Several workers share the outbox by forward-id shards: each shard under its own lease, each forward sent once."""

from __future__ import annotations

from collections import Counter

from sqlmodel import select
from structlog.testing import capture_logs

from processor.outbox import OutboxSender, send_outbox
from processor.types import Shard, outbox_lease
from storage.engine import session_scope
from storage.mail import acquire_lease, release_lease
from storage.mail_models import Forward, MailLease
from tests.processor.mime import bill_message

ELSEWHERE = "elsewhere:1:x"  # another host's live worker: its leases are never taken over early


def _hold(world, name: str) -> None:
    with session_scope(world.engine) as session:
        assert acquire_lease(session=session, name=name, owner=ELSEWHERE, seconds=600)


def _release(world, name: str) -> None:
    with session_scope(world.engine) as session:
        release_lease(session=session, name=name, owner=ELSEWHERE)


def _forwards(world) -> dict[int, str]:
    with session_scope(world.engine) as session:
        return {f.id: f.status for f in session.exec(select(Forward))}


def _stored_with_forwards_waiting(world, bills: int) -> None:
    """`bills` bills stored, their forwards pending (the relay was down during the pass)."""
    units = [world.add_unit(n) for n in range(1, bills + 1)]
    world.deliver(*(bill_message(u.inbox_address, u.installation, "2026-10") for u in units))
    world.smtp.stop()
    world.poll()
    world.smtp.start()
    assert set(_forwards(world).values()) == {"pending"}


def _send(world):
    return send_outbox(engine=world.engine, settings=world.settings, blobs=world.blobs, owner="here:1:y")


def test_outbox_shards_split_forwards_and_name_their_leases():
    assert [outbox_lease(Shard(index=k, count=3)) for k in range(3)] == ["outbox:0/3", "outbox:1/3", "outbox:2/3"]
    assert outbox_lease() == outbox_lease(Shard()) == "outbox"


def test_a_shard_held_by_another_worker_keeps_its_forwards_and_its_interrupted_send(world):
    _stored_with_forwards_waiting(world, 8)
    count = world.settings.shards
    held = Shard(index=1, count=count)
    in_held = sorted(fid for fid in _forwards(world) if held.owns(fid))
    with session_scope(world.engine) as session:  # the other worker is sending this one right now
        row = session.get(Forward, in_held[0])
        row.status, row.attempts = "sending", 1
        session.add(row)
    _hold(world, outbox_lease(held))

    report = _send(world)

    statuses = _forwards(world)
    assert not report.busy and report.sent == 8 - len(in_held) and report.unconfirmed == 0
    assert {fid: s for fid, s in statuses.items() if held.owns(fid)} == {
        fid: ("sending" if fid == in_held[0] else "pending") for fid in in_held}
    assert {s for fid, s in statuses.items() if not held.owns(fid)} == {"sent"}

    _release(world, outbox_lease(held))  # the other worker died without recording its send
    again = _send(world)
    assert again.sent == len(in_held) and again.unconfirmed == 1
    assert set(_forwards(world).values()) == {"sent"}
    # (the simulated worker never reached the relay, so its row's resend is the only copy it got)
    ids = Counter(m.message["Message-ID"] for m in world.smtp.messages)
    assert sorted(ids.values()) == [1] * 8


def test_every_outbox_shard_held_elsewhere_reports_busy_and_sends_nothing(world):
    _stored_with_forwards_waiting(world, 3)
    names = [outbox_lease(Shard(index=k, count=world.settings.shards)) for k in range(world.settings.shards)]
    for name in names:
        _hold(world, name)
    report = _send(world)
    assert report.busy and report.sent == 0 and world.smtp.messages == []
    for name in names:
        _release(world, name)
    assert _send(world).sent == 3


def test_a_worker_with_another_shard_count_does_not_send(world):
    """A worker on `shards = 1` holds the whole outbox: one on 4 shards would overlap it, so it stays out."""
    _stored_with_forwards_waiting(world, 3)
    _hold(world, "outbox")
    with capture_logs() as logs:
        report = _send(world)
    assert report.sent == 0 and world.smtp.messages == [] and set(_forwards(world).values()) == {"pending"}
    mismatch = [e for e in logs if e["event"] == "outbox_shards_mismatch"]
    assert mismatch and mismatch[0]["leases"] == ["outbox"] and "FATURAS_MAIL_SHARDS" in mismatch[0]["remedy"]
    with session_scope(world.engine) as session:  # our own shard leases were given back at once
        assert [lease.name for lease in session.exec(select(MailLease).where(MailLease.owner == "here:1:y"))] == []
    _release(world, "outbox")
    assert _send(world).sent == 3


def test_a_shard_given_back_has_its_last_send_recorded_before_another_worker_takes_it(world):
    """Another worker that takes a shard as soon as it is free finds no `sending` row there to resend."""
    _stored_with_forwards_waiting(world, 8)
    sender = OutboxSender(engine=world.engine, settings=world.settings, blobs=world.blobs, owner="here:1:y")
    has_work = sender._has_work
    other_runs = []

    def another_worker_runs_between_shards(shard):
        if sender.counts["sent"] and not other_runs:  # right after the first shard with work was given back
            other_runs.append(send_outbox(engine=world.engine, settings=world.settings, blobs=world.blobs,
                                          owner="there:2:z"))
        return has_work(shard)

    sender._has_work = another_worker_runs_between_shards
    sender.run()

    assert len(other_runs) == 1 and other_runs[0].sent > 0  # it did take the shards still to send
    assert other_runs[0].unconfirmed == 0 and set(_forwards(world).values()) == {"sent"}
    ids = Counter(m.message["Message-ID"] for m in world.smtp.messages)
    assert len(ids) == 8 and set(ids.values()) == {1}
