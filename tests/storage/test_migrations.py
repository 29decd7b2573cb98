from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from storage import migrate
from storage.engine import make_engine

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


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


def test_upgrade_from_0005_keeps_units_and_invoices_and_adds_the_invoice_uc_code(tmp_path, postgres):
    for url in _empty_database_urls(tmp_path, postgres):
        engine = make_engine(url)
        migrate.upgrade(engine, "0005")
        assert migrate.current_revision(engine) == "0005"
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO unit (id, utility, installation, uc_code, client_name, holder_document, inbox_address,"
                " forward_to, email_bills_enabled, adhesion_status, adhesion_failures, created_at, updated_at)"
                " VALUES (1, 'cemig', '3000055479', NULL, 'Maria', '52998224725', 'uc-1@x.example', '[]', TRUE,"
                " 'verified', 0, :now, :now)"), {"now": NOW})
            connection.execute(text(
                "INSERT INTO invoice (id, unit_id, reference_month, version, status, review_reasons, installation,"
                " fingerprint, data, pdf_sha256, source, created_at)"
                " VALUES (7, 1, '2025-12', 1, 'parsed', '[]', '3000055479', 'f', '{}', 'd', 'email', :now)"),
                {"now": NOW})
            connection.execute(text(
                "INSERT INTO forward (id, invoice_id, recipient, status, attempts, unconfirmed_sends, message_id,"
                " created_at, updated_at) VALUES (3, 7, 'c@x.example', 'sent', 1, 0, '<m@x>', :now, :now)"),
                {"now": NOW})
        assert "uc_code" not in {c["name"] for c in inspect(engine).get_columns("invoice")}
        assert migrate.ensure_schema(engine) is True
        assert migrate.current_revision(engine) == migrate.head_revision(engine)  # 0006 and what followed
        with engine.connect() as connection:
            row = connection.execute(text("SELECT installation, uc_code FROM invoice WHERE id = 7")).one()
            unit = connection.execute(text("SELECT installation, uc_code FROM unit WHERE id = 1")).one()
        assert tuple(row) == ("3000055479", None) and tuple(unit) == ("3000055479", None)
        with engine.connect() as connection:  # 0011: nobody reviewed the old bill; the unit forwards as before
            reviewed = connection.execute(text("SELECT reviewed_by, reviewed_at FROM invoice WHERE id = 7")).one()
            forward_report = connection.execute(text("SELECT forward_report FROM unit WHERE id = 1")).scalar_one()
            forwards = connection.execute(text("SELECT count(*) FROM forward WHERE invoice_id = 7")).scalar_one()
        assert tuple(reviewed) == (None, None) and not forward_report
        assert forwards == 1  # no migration's table rebuild cascaded to the bill's forwards
        migrate.upgrade(engine)  # idempotent at head
        engine.dispose()
