from datetime import timedelta

import pytest
from sqlmodel import Session, select

from storage import migrate
from storage.engine import make_engine, session_scope
from storage.errors import ConfigurationError
from storage.models import AdhesionStatus, Unit, Worker, utcnow
from storage.units import InboxPolicy, create_unit
from storage.work import (
    claim_adhesions,
    heartbeat,
    live_workers,
    prune_dead_workers,
    register_worker,
    release_adhesion,
)
from tests.factories import unit_in

POLICY = InboxPolicy(pattern="uc-{installation}-{token}", domain="faturas.example.com")
SCHEDULE = [3600.0, 21600.0]


def _units(engine, count: int) -> list[int]:
    with session_scope(engine) as session:
        return [create_unit(session=session, unit_in=unit_in(n), keys=None, inbox=POLICY).id
                for n in range(1, count + 1)]


def _register(engine, owner: str) -> None:
    with session_scope(engine) as session:
        register_worker(session=session, owner=owner, host="h", pid=1, stale_after_s=45, single_writer=False)


def test_claims_are_exclusive_and_leased(engine):
    ids = _units(engine, 5)
    _register(engine, "a")
    _register(engine, "b")
    with session_scope(engine) as session:
        first = claim_adhesions(session=session, owner="a", limit=3, lease_s=600, stale_after_s=45)
    with session_scope(engine) as session:
        second = claim_adhesions(session=session, owner="b", limit=3, lease_s=600, stale_after_s=45)
    assert first == ids[:3] and second == ids[3:]
    with session_scope(engine) as session:
        assert claim_adhesions(session=session, owner="b", limit=3, lease_s=600, stale_after_s=45) == ids[3:]


def test_skip_locked_lets_concurrent_transactions_take_different_units(postgres):
    # Row locks are PostgreSQL's: SQLite serialises writers and runs one worker (tested below).
    engine = make_engine(postgres.create_database())
    migrate.upgrade(engine)
    ids = _units(engine, 4)
    with Session(engine) as one, Session(engine) as two:
        taken_one = claim_adhesions(session=one, owner="a", limit=2, lease_s=600, stale_after_s=45)
        taken_two = claim_adhesions(session=two, owner="b", limit=2, lease_s=600, stale_after_s=45)
        one.commit()
        two.commit()
    engine.dispose()
    assert taken_one == ids[:2] and taken_two == ids[2:]


def test_a_dead_workers_units_are_taken_over(engine):
    (unit_id,) = _units(engine, 1)
    _register(engine, "dead")
    with session_scope(engine) as session:
        assert claim_adhesions(session=session, owner="dead", limit=1, lease_s=600, stale_after_s=45) == [unit_id]
    with session_scope(engine) as session:
        assert claim_adhesions(session=session, owner="b", limit=1, lease_s=600, stale_after_s=45) == []
    later = utcnow() + timedelta(seconds=60)  # the dead worker's heartbeat is now 60 s old
    with session_scope(engine) as session:
        assert claim_adhesions(session=session, owner="b", limit=1, lease_s=600, stale_after_s=45,
                               now=later) == [unit_id]


def test_transient_failures_follow_the_schedule_then_need_a_person(engine):
    (unit_id,) = _units(engine, 1)
    now = utcnow()
    for attempt, wait in enumerate([*SCHEDULE, None]):
        with session_scope(engine) as session:
            unit = session.get(Unit, unit_id)
            unit.adhesion_status = AdhesionStatus.PORTAL_UNAVAILABLE.value
            assert claim_adhesions(session=session, owner="a", limit=1, lease_s=600, stale_after_s=45,
                                   now=now) == [unit_id], attempt
            release_adhesion(session=session, unit_id=unit_id, owner="a", status=AdhesionStatus.PORTAL_UNAVAILABLE,
                             retry_after=SCHEDULE, now=now)
        with session_scope(engine) as session:
            unit = session.get(Unit, unit_id)
            if wait is None:
                assert unit.adhesion_status == "portal_changed" and "retries" in unit.adhesion_message
                break
            due = unit.adhesion_next_at if unit.adhesion_next_at.tzinfo else unit.adhesion_next_at.replace(
                tzinfo=now.tzinfo)
            assert due == now + timedelta(seconds=wait)
            assert claim_adhesions(session=session, owner="a", limit=1, lease_s=600, stale_after_s=45,
                                   now=now) == []  # not due yet
            now = due


def test_sqlite_refuses_a_second_live_worker(engine):
    with session_scope(engine) as session:
        register_worker(session=session, owner="first", host="h", pid=1, stale_after_s=45, single_writer=True)
    with pytest.raises(ConfigurationError, match="SQLite supports one worker"), session_scope(engine) as session:
        register_worker(session=session, owner="second", host="h", pid=2, stale_after_s=45, single_writer=True)
    with session_scope(engine) as session:
        heartbeat(session=session, owner="first")
        assert [w.owner for w in live_workers(session=session, stale_after_s=45)] == ["first"]


def test_dead_workers_are_forgotten_after_a_day_and_live_ones_kept(engine):
    for owner in ("alive", "dead-an-hour", "dead-two-days"):
        _register(engine, owner)
    now = utcnow()
    with session_scope(engine) as session:
        session.get(Worker, "dead-an-hour").heartbeat_at = now - timedelta(hours=1)
        session.get(Worker, "dead-two-days").heartbeat_at = now - timedelta(days=2)
    with session_scope(engine) as session:
        assert prune_dead_workers(session=session, older_than_s=86400, now=now) == 1
    with session_scope(engine) as session:
        assert sorted(w.owner for w in session.exec(select(Worker))) == ["alive", "dead-an-hour"]
        assert prune_dead_workers(session=session, older_than_s=86400, now=now) == 0
