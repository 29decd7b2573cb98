"""Engines and sessions; SQLite (the embedded default, in WAL mode) or PostgreSQL (scale-out)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import Session

from storage.errors import ConfigurationError

PING_AFTER_IDLE_S = 10.0
"""A pooled PostgreSQL connection that sat unused this long is pinged before it is handed out again."""


def make_engine(url: str, *, ping_after_idle_s: float = PING_AFTER_IDLE_S) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout, its folder is created.

    PostgreSQL connections are pinged on checkout only when they sat idle `ping_after_idle_s` (see
    `_ping_when_idle`).
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"FATURAS_DATABASE_URL is not a database URL: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(parsed)
        _ping_when_idle(engine, ping_after_idle_s)
        return engine
    raise ConfigurationError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def _ping_when_idle(engine: Engine, after_s: float) -> None:
    """Ping a pooled connection on checkout when it was idle `after_s` or more; replace it if it is dead.

    `pool_pre_ping` pings on every checkout: one more round trip (and transaction) per session, which was
    half of a mail worker's transactions (bench/results/service_workers.md). A connection that a worker
    used a moment ago is alive; one idle for a while may have been closed by a database restart, a
    failover or a firewall, and is the one worth checking. A connection that dies while in use still
    fails that one statement (the job records the error and the next run gets a fresh connection).
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:  # noqa: ANN001 - SQLAlchemy's pool record
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _handed_out(dbapi_connection, record, _proxy) -> None:  # noqa: ANN001 - DB-API connection, pool record
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < after_s:
            return  # new, or used a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure means a dead connection
            raise exc.DisconnectionError(f"idle connection is dead: {type(error).__name__}") from error
        if not alive:
            raise exc.DisconnectionError("idle connection is dead")


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API connection
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """`session.begin_nested()` that nests inside the session's transaction on SQLite too.

    Python's sqlite3 driver opens a transaction only before a write. A SAVEPOINT issued first opens one of
    its own, and releasing that outermost savepoint commits it: every "nested" row would be committed
    at once, whatever the session does later. So on SQLite the real transaction is begun first.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")
    with session.begin_nested():
        yield


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
