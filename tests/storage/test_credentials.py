"""A portal login's credentials erased on schedule and on demand: nothing of them left in the database files.

The scan reads what the database keeps on disk, not what a query returns: the SQLite file and its WAL after
the erasure's VACUUM, and on PostgreSQL every page of the tables (live and dead row versions, through
pageinspect) after the erasure's VACUUM FULL. Each scan also finds a value that must still be there, so a
scan that reads nothing cannot pass.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from cli.main import build_app
from cli.support import EXIT_INPUT, EXIT_NOT_FOUND, run_app
from config.context import AppContext
from config.settings import load_settings
from service.scheduler import Service
from storage.adhesion import credential_scope, save_browser_state
from storage.credentials import credentials_due_for_erasure, erase_login_credentials, erasure_date
from storage.engine import session_scope
from storage.login_models import PortalLogin
from storage.logins import login_units
from storage.models import AdhesionAttempt, AdhesionStatus, BrowserSession, Unit, UnitCreate, UnitPublic, utcnow
from storage.secrets import KeyRing, new_key
from storage.units import InboxPolicy, create_unit, portal_password
from tests.aio import run_async

INBOX = InboxPolicy(pattern="uc-{installation}-{token}", domain="faturas.example.com")
SECRET = "Senha-Do-Portal-77"
LOGIN = "52998224725"
TABLES = ("portal_login", "unit", "browser_session")


def _login_with_units(engine, keys: KeyRing, *, enrolled_days_ago: int | None) -> tuple[int, list[str]]:
    """A login of two units (one password, one saved session); returns its id and the stored secret strings."""
    with session_scope(engine) as session:
        units = [create_unit(session=session, keys=keys, inbox=INBOX, unit_in=UnitCreate(
            installation=number, client_name="Maria", holder_document=LOGIN, portal_login=LOGIN,
            portal_password=SECRET)) for number in ("3000000001", "3000000002")]
        scope = credential_scope(keys=keys, utility="cemig", integrator_id=None, portal_login=LOGIN, password=SECRET)
        save_browser_state(session=session, scope=scope, state={"cookies": [{"name": "sid", "value": "s-77"}]},
                           keys=keys)
        if enrolled_days_ago is not None:
            finished = utcnow() - timedelta(days=enrolled_days_ago)
            for unit in units:
                unit.adhesion_status = AdhesionStatus.ENROLLED.value
                session.add(AdhesionAttempt(unit_id=unit.id, outcome="enrolled", finished_at=finished,
                                            submissions=1))
        session.flush()
        login = session.get(PortalLogin, units[0].portal_login_id)
        stored = session.exec(select(BrowserSession)).one()
        assert [u.portal_password_enc for u in units] == [None, None]  # the login holds the only copy
        assert portal_password(session=session, unit=units[1], keys=keys) == SECRET
        return login.id, [login.password_enc, stored.state_enc, stored.fingerprint, SECRET]


def _stored_bytes(engine) -> bytes:
    """Everything the database keeps on disk for the credential tables (old row versions included)."""
    if engine.dialect.name == "sqlite":
        database = Path(engine.url.database)
        return b"".join(f.read_bytes() for f in (database, Path(f"{database}-wal")) if f.exists())
    pages = []
    with engine.begin() as connection:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        for table in TABLES:
            blocks = connection.execute(text(
                "SELECT pg_relation_size(:t) / current_setting('block_size')::int"), {"t": table}).scalar_one()
            pages += [connection.execute(text("SELECT get_raw_page(:t, :b)"), {"t": table, "b": block}).scalar_one()
                      for block in range(blocks)]
    return b"".join(bytes(page) for page in pages)


def _assert_nothing_left(engine, secrets: list[str]) -> None:
    leftovers = _stored_bytes(engine)
    for secret in secrets:
        assert secret.encode() not in leftovers, secret[:12]
    assert LOGIN.encode() in leftovers  # the scan reads the tables' data for real


def test_erasure_on_demand_leaves_no_copy_and_re_enrolment_asks_for_the_password(engine):
    keys = KeyRing((new_key(),))
    login_id, secrets = _login_with_units(engine, keys, enrolled_days_ago=None)
    if engine.dialect.name == "postgresql":
        # Control: a replaced row version keeps the old token on disk until VACUUM FULL, and the scan sees it.
        with session_scope(engine) as session:
            login = session.get(PortalLogin, login_id)
            login.password_enc = keys.encrypt(SECRET)
            secrets.append(login.password_enc)
        assert secrets[0].encode() in _stored_bytes(engine)
    erased = erase_login_credentials(engine=engine, login_id=login_id, reason="on_request")
    assert (erased.passwords, erased.sessions) == (1, 1)
    _assert_nothing_left(engine, secrets)
    with session_scope(engine) as session:
        units = login_units(session=session, login_id=login_id)
        assert [portal_password(session=session, unit=u, keys=keys) for u in units] == [None, None]
        assert not UnitPublic.from_unit(units[0]).has_portal_password
        assert session.exec(select(BrowserSession)).all() == []
        assert [u.inbox_address for u in units] == [session.get(PortalLogin, login_id).inbox_address] * 2


def test_re_enrolment_after_erasure_ends_password_required_until_the_password_is_given(engine, tmp_path):
    from bot.adhesion import AdhesionOptions, adhere_units
    from storage.models import UnitUpdate
    from storage.units import update_unit

    key = new_key()
    keys = KeyRing((key,))
    login_id, _ = _login_with_units(engine, keys, enrolled_days_ago=40)
    erase_login_credentials(engine=engine, login_id=login_id, reason="on_request")
    app = AppContext(settings=load_settings(environ={
        "FATURAS_DATA_DIR": str(tmp_path), "FATURAS_SECRET_KEYS": key,
        "FATURAS_DATABASE_URL": engine.url.render_as_string(hide_password=False)}))
    with session_scope(engine) as session:
        ids = [u.id for u in login_units(session=session, login_id=login_id)]
    outcomes = run_async(adhere_units(app, ids, AdhesionOptions(attempts=1)))
    assert [(o.status, o.attempts) for o in outcomes] == [(AdhesionStatus.PASSWORD_REQUIRED, 0)] * 2
    assert "Informe a senha atual da Agência Virtual" in outcomes[0].message
    with session_scope(engine) as session:
        unit = session.get(Unit, ids[0])
        assert unit.adhesion_status == "password_required"
        update_unit(session=session, unit=unit, unit_in=UnitUpdate(portal_password="Nova-Senha-88"), keys=keys)
    with session_scope(engine) as session:
        units = [session.get(Unit, i) for i in ids]
        assert [u.adhesion_status for u in units] == ["pending", "password_required"]
        assert [portal_password(session=session, unit=u, keys=keys) for u in units] == ["Nova-Senha-88"] * 2
        assert units[0].portal_password_enc is None  # given on a unit, kept on its login only
    app.close()


def test_the_schedule_erases_after_the_configured_days_once_every_unit_is_enrolled(engine, tmp_path):
    key = new_key()
    keys = KeyRing((key,))
    due_id, secrets = _login_with_units(engine, keys, enrolled_days_ago=31)
    with session_scope(engine) as session:  # a second login: enrolled 31 days ago, one unit still pending
        other = create_unit(session=session, keys=keys, inbox=INBOX, unit_in=UnitCreate(
            installation="3000000003", client_name="João", holder_document="11144477735",
            portal_login="11144477735", portal_password="Outra-Senha-55"))
        other.adhesion_status = AdhesionStatus.PENDING.value
        waiting_id = other.portal_login_id
    with session_scope(engine) as session:
        assert credentials_due_for_erasure(session=session, after_days=30) == [due_id]
        assert credentials_due_for_erasure(session=session, after_days=32) == []
        login = session.get(PortalLogin, due_id)
        when = erasure_date(session=session, login=login, after_days=30)
        assert timedelta(days=-1.1) < when - utcnow() < timedelta(days=-0.9)
        assert erasure_date(session=session, login=session.get(PortalLogin, waiting_id), after_days=30) is None
    app = AppContext(settings=load_settings(environ={
        "FATURAS_DATA_DIR": str(tmp_path), "FATURAS_SECRET_KEYS": key,
        "FATURAS_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "FATURAS_LOGINS_ERASE_CREDENTIALS_AFTER_DAYS": "30"}))
    assert app.settings.logins_erase_credentials_after_days == 30
    service = Service(app)
    assert service.credential_erasure() == {"logins_erased": 1}
    assert service.credential_erasure() == {}  # nothing left to erase: the job is idempotent
    _assert_nothing_left(engine, secrets)
    with session_scope(engine) as session:
        assert session.get(PortalLogin, waiting_id).password_enc is not None
        assert session.get(PortalLogin, due_id).password_enc is None
    app.close()


def test_the_cli_command_asks_for_yes_and_says_what_it_erased(engine, tmp_path, monkeypatch, capsys):
    key = new_key()
    login_id, secrets = _login_with_units(engine, KeyRing((key,)), enrolled_days_ago=None)
    monkeypatch.setenv("FATURAS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FATURAS_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("FATURAS_SECRET_KEYS", key)
    assert run_app(build_app(), ["logins", "erase-credentials", str(login_id)]) == EXIT_INPUT
    assert "--yes" in capsys.readouterr().err
    assert run_app(build_app(), ["logins", "erase-credentials", str(login_id), "--yes"]) == 0
    assert "erased 1 stored password(s) and 1 saved session(s)" in capsys.readouterr().out
    _assert_nothing_left(engine, secrets)
    assert run_app(build_app(), ["logins", "erase-credentials", "999", "--yes"]) == EXIT_NOT_FOUND


def test_the_setting_defaults_to_30_days_and_refuses_a_negative_number(tmp_path):
    from storage.errors import ConfigurationError

    assert load_settings(environ={"FATURAS_DATA_DIR": str(tmp_path)}).logins_erase_credentials_after_days == 30
    with pytest.raises(ConfigurationError, match="(?i)erase_credentials_after_days"):
        load_settings(environ={"FATURAS_DATA_DIR": str(tmp_path), "FATURAS_LOGINS_ERASE_CREDENTIALS_AFTER_DAYS": "-1"})
