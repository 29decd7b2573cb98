from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel

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


def _insert_unit(connection, unit_id: int, *, login: str | None, address: str, status: str = "pending",
                 integrator: int | None = None) -> None:
    connection.execute(text(
        "INSERT INTO unit (id, utility, installation, client_name, holder_document, portal_login, portal_password_enc,"
        " inbox_address, forward_to, email_bills_enabled, adhesion_status, adhesion_failures, integrator_id,"
        " created_at, updated_at) VALUES (:id, 'cemig', :installation, 'Maria', '52998224725', :login, :password,"
        " :address, '[]', TRUE, :status, 0, :integrator, :now, :now)"),
        {"id": unit_id, "installation": f"30000000{unit_id:02d}", "login": login,
         "password": f"token-{unit_id}" if login else None, "address": address, "status": status,
         "integrator": integrator, "now": NOW})
    connection.execute(text("INSERT INTO inbox_address (address, unit_id, created_at) VALUES (:a, :id, :now)"),
                       {"a": address, "id": unit_id, "now": NOW})


def test_upgrade_from_0008_groups_units_by_portal_login_without_changing_any_address(tmp_path, postgres):
    from storage.logins import routing_table
    from storage.units import get_unit

    for url in _empty_database_urls(tmp_path, postgres):
        engine = make_engine(url)
        migrate.upgrade(engine, "0008")
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO integrator (id, email, name, password_hash, active, created_at) VALUES"
                                    " (5, 'a@solar.example', 'Solar', 'x', TRUE, :now)"), {"now": NOW})
            # Two units of one login (the second enrolled last: the portal holds its address), a unit of the
            # same login under another integrator, a unit without a login.
            _insert_unit(connection, 1, login="52998224725", address="uc-1@x.example", status="enrolled",
                         integrator=5)
            _insert_unit(connection, 2, login="52998224725", address="uc-2@x.example", status="verified",
                         integrator=5)
            _insert_unit(connection, 3, login="52998224725", address="uc-3@x.example")
            _insert_unit(connection, 4, login=None, address="uc-4@x.example")
            for attempt, (unit_id, finished) in enumerate(((1, "2026-01-01"), (2, "2026-02-01")), start=1):
                connection.execute(text(
                    "INSERT INTO adhesion_attempt (id, unit_id, started_at, finished_at, outcome, changes, submissions,"
                    " artifacts) VALUES (:id, :unit, :t, :t, 'enrolled', '[]', 1, '[]')"),
                    {"id": attempt, "unit": unit_id, "t": datetime.fromisoformat(finished).replace(tzinfo=UTC)})
            connection.execute(text(
                "INSERT INTO invoice (id, unit_id, reference_month, version, status, review_reasons, installation,"
                " fingerprint, data, pdf_sha256, source, created_at)"
                " VALUES (7, 1, '2025-12', 1, 'parsed', '[]', '3000000001', 'f', '{}', 'd', 'email', :now)"),
                {"now": NOW})
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision(engine)
        with engine.connect() as connection:
            addresses = dict(connection.execute(text("SELECT id, inbox_address FROM unit")).all())
            logins = connection.execute(text(
                "SELECT id, integrator_id, login, password_enc, inbox_address, email_status FROM portal_login"
                " ORDER BY id")).all()
            links = dict(connection.execute(text("SELECT id, portal_login_id FROM unit")).all())
            invoices = connection.execute(text("SELECT id, unit_id FROM invoice")).all()
        assert addresses == {1: "uc-1@x.example", 2: "uc-2@x.example", 3: "uc-3@x.example", 4: "uc-4@x.example"}
        assert [tuple(row)[1:] for row in logins] == [
            (5, "52998224725", "token-2", "uc-2@x.example", "email_set"),
            (None, "52998224725", "token-3", "uc-3@x.example", "pending")]
        solar, other = logins[0].id, logins[1].id
        assert links == {1: solar, 2: solar, 3: other, 4: None}
        assert [tuple(row) for row in invoices] == [(7, 1)]  # the table rebuild cascaded into nothing
        with Session(engine) as session:
            table = routing_table(session=session)
            assert table.logins == {"uc-1@x.example": solar, "uc-2@x.example": solar, "uc-3@x.example": other}
            assert table.units == {"uc-4@x.example": 4}
            assert get_unit(session=session, ref=1).inbox_address == "uc-1@x.example"
        engine.dispose()


def test_upgrade_from_0014_keeps_single_unit_addresses_and_leaves_the_password_on_the_login_only(tmp_path, postgres):
    """0015: a single-unit login's password copy moves to its login; no inbox address or route changes."""
    from storage.logins import routing_table

    for url in _empty_database_urls(tmp_path, postgres):
        engine = make_engine(url)
        migrate.upgrade(engine, "0014")
        with engine.begin() as connection:
            # Unit 1: the only unit of its login, whose row lost its password (it is on the unit). Unit 2: the
            # only unit of a login holding the same token as the unit. Unit 3: no login, its own password.
            for unit_id, login_password in ((1, None), (2, "token-2")):
                connection.execute(text(
                    "INSERT INTO portal_login (id, utility, login, password_enc, inbox_address, email_status,"
                    " created_at, updated_at) VALUES (:id, 'cemig', :login, :password, :address, 'email_set',"
                    " :now, :now)"), {"id": unit_id, "login": f"login-{unit_id}", "password": login_password,
                                      "address": f"uc-{unit_id}@x.example", "now": NOW})
            for unit_id in (1, 2, 3):
                _insert_unit(connection, unit_id, login=f"login-{unit_id}" if unit_id < 3 else "solo",
                             address=f"uc-{unit_id}@x.example", status="verified")
            connection.execute(text("UPDATE unit SET portal_login = NULL WHERE id = 3"))
            connection.execute(text("UPDATE unit SET portal_login_id = id WHERE id < 3"))
            connection.execute(text("UPDATE inbox_address SET portal_login_id = unit_id WHERE unit_id < 3"))
        with Session(engine) as session:
            before = routing_table(session=session)
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == "0015" == migrate.head_revision(engine)
        with engine.connect() as connection:
            addresses = dict(connection.execute(text("SELECT id, inbox_address FROM unit")).all())
            unit_passwords = dict(connection.execute(text("SELECT id, portal_password_enc FROM unit")).all())
            login_passwords = dict(connection.execute(text("SELECT id, password_enc FROM portal_login")).all())
            statuses = dict(connection.execute(text("SELECT id, adhesion_status FROM unit")).all())
        assert addresses == {1: "uc-1@x.example", 2: "uc-2@x.example", 3: "uc-3@x.example"}
        assert unit_passwords == {1: None, 2: None, 3: "token-3"}
        assert login_passwords == {1: "token-1", 2: "token-2"}
        assert statuses == {1: "verified", 2: "verified", 3: "verified"}
        with Session(engine) as session:
            assert routing_table(session=session) == before
        assert before.logins == {"uc-1@x.example": 1, "uc-2@x.example": 2} and before.units == {"uc-3@x.example": 3}
        engine.dispose()
