from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from storage import migrate
from storage.engine import make_engine


def _empty_database_urls(tmp_path, postgres):
    return [f"sqlite:///{tmp_path / 'empty.db'}", postgres.create_database()]


def test_empty_database_upgrades_to_head_and_matches_the_models(tmp_path, postgres):
    for url in _empty_database_urls(tmp_path, postgres):
        engine = make_engine(url)
        assert migrate.current_revision(engine) is None
        assert migrate.ensure_schema(engine) is True
        assert migrate.current_revision(engine) == migrate.head_revision(engine)
        assert migrate.ensure_schema(engine) is False
        assert {"unit", "inbox_address"} <= set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, SQLModel.metadata)
        assert diff == [], f"{engine.dialect.name}: models and migrations differ: {diff}"
        engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
