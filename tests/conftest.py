"""Session-wide fixtures: the real browser from playwright.config."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from flows.browser import BrowserSettings
from storage import migrate
from storage.engine import make_engine

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fresh_logging_configuration():
    """structlog's configuration is global to the process: give every test the library defaults back."""
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def browser_settings() -> BrowserSettings:
    return BrowserSettings.load(ROOT / "playwright.config")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, browser_settings):
    """pytest-playwright has no --executable-path: add Debian's Chromium and its flags here."""
    options = browser_settings.launch_options()
    options.update({k: v for k, v in browser_type_launch_args.items() if k in {"headless", "slow_mo"} and v})
    return options


# --- Databases: every database test runs on SQLite and on PostgreSQL in the same run. ---

POSTGRES_URL = os.environ.get("FATURAS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class PostgresServer:
    """Creates throw-away databases on the real PostgreSQL server the tests use."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url)
        self.admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create_database(self) -> str:
        name = f"faturas_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer(POSTGRES_URL)
    try:
        with server.admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - turn any connection failure into a clear setup error
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL} ({exc}); start it (see .ci/run)")
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def postgres_migrated_url(postgres: PostgresServer) -> str:
    url = postgres.create_database()
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """A migrated, empty database URL: a fresh SQLite file, or the shared PostgreSQL test database truncated."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'faturas.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
        return
    url = request.getfixturevalue("postgres_migrated_url")
    engine = make_engine(url)
    with engine.begin() as connection:
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
