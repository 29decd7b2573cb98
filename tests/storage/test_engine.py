"""PostgreSQL connections kept in the pool: pinged when they sat idle, not on every checkout."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import exc, text

from storage.engine import make_engine


def _backend_pid(engine) -> int:  # noqa: ANN001 - a SQLAlchemy engine
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(admin, pid: int) -> None:  # noqa: ANN001 - a SQLAlchemy engine
    with admin.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    time.sleep(0.2)  # the backend exits asynchronously


def test_an_idle_connection_killed_by_the_server_is_replaced_before_use(postgres, postgres_migrated_url):
    engine = make_engine(postgres_migrated_url, ping_after_idle_s=0.05)
    try:
        first = _backend_pid(engine)
        _terminate(postgres.admin, first)  # a database restart or a firewall while the worker was idle
        time.sleep(0.1)
        second = _backend_pid(engine)  # no error: the ping found it dead and the pool connected again
        assert second != first
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_handed_out_without_a_ping(postgres, postgres_migrated_url):
    engine = make_engine(postgres_migrated_url, ping_after_idle_s=3600)
    try:
        first = _backend_pid(engine)
        _terminate(postgres.admin, first)
        # Not pinged (it was used a moment ago): the one statement fails and the connection is dropped ...
        with pytest.raises(exc.OperationalError):
            _backend_pid(engine)
        # ... and the next session gets a fresh one.
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()
