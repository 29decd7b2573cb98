"""Accounts: login, cookies, CSRF, rate limit, logout, and the `faturas users` CLI."""

from __future__ import annotations

from sqlmodel import select

from cli.main import build_app
from cli.support import run_app
from storage.engine import session_scope
from storage.models import Unit
from storage.web_models import Integrator, WebSession
from tests.web.conftest import PASSWORD, csrf_of


def test_login_sets_an_httponly_samesite_session_and_logout_ends_it(web):
    web.user("ana@solar.example.com")
    client = web.client()
    assert client.get("/unidades").headers["location"] == "/entrar"
    response = client.post("/entrar", data={"email": "ANA@solar.example.com ", "password": PASSWORD,
                                            "csrf_token": csrf_of(client.get("/entrar"))})
    assert response.status_code == 303 and response.headers["location"] == "/unidades"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("faturas_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    with session_scope(web.app.engine) as session:
        stored = session.exec(select(WebSession)).one()
        assert stored.token_sha256 != token  # only the hash is stored
        assert session.exec(select(Integrator)).one().password_hash.startswith("$argon2id$")
    page = client.get("/unidades")
    assert page.status_code == 200 and "Unidades" in page.text
    assert client.post("/sair", data={"csrf_token": csrf_of(page)}).status_code == 303
    # The old cookie no longer works even when replayed.
    replay = web.client()
    replay.cookies.set("faturas_session", token)
    assert replay.get("/unidades").status_code == 303


def test_wrong_password_and_missing_csrf_are_refused(web):
    web.user("ana@solar.example.com")
    client = web.client()
    wrong = client.post("/entrar", data={"email": "ana@solar.example.com", "password": "errada-123456",
                                         "csrf_token": csrf_of(client.get("/entrar"))})
    assert wrong.status_code == 401 and "E-mail ou senha incorretos" in wrong.text
    no_csrf = client.post("/entrar", data={"email": "ana@solar.example.com", "password": PASSWORD})
    assert no_csrf.status_code == 403
    logged = web.login("ana@solar.example.com")
    forged = logged.post("/unidades/nova", data={"client_name": "X", "holder_document": "52998224725",
                                                 "installation": "3000055479", "csrf_token": "0" * 64})
    assert forged.status_code == 403
    with session_scope(web.app.engine) as session:
        assert session.exec(select(Unit)).all() == []


def test_failed_logins_are_rate_limited_even_with_the_right_password(web):
    web.user("ana@solar.example.com")
    client = web.client()
    for _ in range(web.app.settings.web_login_max_attempts):
        answer = client.post("/entrar", data={"email": "ana@solar.example.com", "password": "errada-123456",
                                              "csrf_token": csrf_of(client.get("/entrar"))})
        assert answer.status_code == 401
    blocked = client.post("/entrar", data={"email": "ana@solar.example.com", "password": PASSWORD,
                                           "csrf_token": csrf_of(client.get("/entrar"))})
    assert blocked.status_code == 429 and "Muitas tentativas" in blocked.text
    assert "faturas_session" not in blocked.cookies


def test_cli_adds_an_integrator_assigns_units_and_makes_a_token(web, tmp_path, monkeypatch, capsys):
    for name, value in {"FATURAS_DATA_DIR": str(web.app.settings.data_dir),
                        "FATURAS_DATABASE_URL": web.app.settings.database_url,
                        "FATURAS_SECRET_KEYS": web.app.settings.secret_keys}.items():
        monkeypatch.setenv(name, value)
    password = tmp_path / "pw"
    password.write_text("uma-senha-longa\n")
    assert run_app(build_app(), ["users", "add", "bia@solar.example.com", "--password-file", str(password)]) == 0
    unit_id = web.unit(None, 7)
    assert run_app(build_app(), ["users", "assign", "bia@solar.example.com", str(unit_id)]) == 0
    capsys.readouterr()
    assert run_app(build_app(), ["users", "token", "create", "bia@solar.example.com"]) == 0
    token = capsys.readouterr().out.strip()
    with web.client() as api:
        units = api.get("/api/v1/units", headers={"Authorization": f"Bearer {token}"}).json()
    assert [u["id"] for u in units] == [unit_id]
    assert web.login("bia@solar.example.com", "uma-senha-longa").get(f"/unidades/{unit_id}").status_code == 200
    assert run_app(build_app(), ["users", "add", "bia@solar.example.com", "--password-file", str(password)]) != 0


def test_serve_with_worker_starts_the_service_and_respects_the_sqlite_single_worker_rule(tmp_path, monkeypatch,
                                                                                     capsys):
    from config.context import AppContext
    from config.settings import load_settings
    from storage.engine import session_scope
    from storage.work import register_worker

    monkeypatch.setenv("FATURAS_DATA_DIR", str(tmp_path))
    app = AppContext(settings=load_settings())
    with session_scope(app.engine) as session:  # a `faturas run` is already working on this SQLite file
        register_worker(session=session, owner="other:1:x", host="h", pid=1, stale_after_s=45, single_writer=True)
    app.close()
    assert run_app(build_app(), ["serve", "--with-worker"]) == 3  # the configuration family
    assert "SQLite supports one worker" in capsys.readouterr().err
