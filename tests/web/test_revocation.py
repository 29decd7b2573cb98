"""Revocation (issue 14, item 10): API tokens revoked from the CLI or the dashboard, integrators disabled."""

from __future__ import annotations

import re

from cli.main import build_app
from cli.support import run_app
from tests.web.conftest import PASSWORD, csrf_of


def _cli_env(web, monkeypatch) -> None:
    for name, value in {"FATURAS_DATA_DIR": str(web.app.settings.data_dir),
                        "FATURAS_DATABASE_URL": web.app.settings.database_url,
                        "FATURAS_SECRET_KEYS": web.app.settings.secret_keys}.items():
        monkeypatch.setenv(name, value)


def _api_status(web, token: str) -> int:
    with web.client() as api:
        return api.get("/api/v1/units", headers={"Authorization": f"Bearer {token}"}).status_code


def test_cli_revokes_a_token_and_disables_and_enables_an_integrator(web, monkeypatch, capsys):
    _cli_env(web, monkeypatch)
    web.user("ana@solar.example.com")
    capsys.readouterr()
    assert run_app(build_app(), ["users", "token", "create", "ana@solar.example.com", "--name", "erp"]) == 0
    erp = capsys.readouterr().out.strip().splitlines()[-1]
    assert run_app(build_app(), ["users", "token", "create", "ana@solar.example.com", "--name", "bi"]) == 0
    bi = capsys.readouterr().out.strip().splitlines()[-1]
    assert _api_status(web, erp) == 200 and _api_status(web, bi) == 200
    assert run_app(build_app(), ["users", "token", "list", "ana@solar.example.com"]) == 0
    listed = capsys.readouterr().out
    assert "erp" in listed and erp[:8] in listed and erp not in listed
    erp_id = re.search(r"(\d+)\s+│\s+erp", listed).group(1)
    assert run_app(build_app(), ["users", "token", "revoke", erp_id]) == 0
    assert _api_status(web, erp) == 401 and _api_status(web, bi) == 200
    capsys.readouterr()
    assert run_app(build_app(), ["users", "token", "revoke", "999999"]) != 0
    assert "token" in capsys.readouterr().err.lower()

    browser = web.login("ana@solar.example.com")
    assert browser.get("/unidades").status_code == 200
    assert run_app(build_app(), ["users", "disable", "ana@solar.example.com"]) == 0
    assert _api_status(web, bi) == 401
    assert browser.get("/unidades", follow_redirects=False).status_code in (303, 401)  # the session ended
    refused = web.client()
    answer = refused.post("/entrar", data={"email": "ana@solar.example.com", "password": PASSWORD,
                                           "csrf_token": csrf_of(refused.get("/entrar"))})
    assert answer.status_code == 401
    assert run_app(build_app(), ["users", "enable", "ana@solar.example.com"]) == 0
    assert _api_status(web, bi) == 200 and _api_status(web, erp) == 401  # a revoked token stays revoked
    assert web.login("ana@solar.example.com").get("/unidades").status_code == 200


def test_an_integrator_creates_and_revokes_their_own_tokens_on_the_dashboard(web):
    web.user("ana@solar.example.com")
    web.user("bia@solar.example.com")
    ana = web.login("ana@solar.example.com")
    created = ana.post("/conta/tokens", data={"nome": "erp", "csrf_token": csrf_of(ana.get("/conta/tokens"))})
    assert created.status_code == 200
    token = re.search(r'aria-label="Novo token">([^<]+)<', created.text).group(1)
    assert _api_status(web, token) == 200
    listing = ana.get("/conta/tokens").text
    assert token not in listing and token[:8] in listing and "ativo" in listing
    token_id = re.search(r'/conta/tokens/(\d+)/revogar', listing).group(1)

    bia = web.login("bia@solar.example.com")
    other = bia.post(f"/conta/tokens/{token_id}/revogar", data={"csrf_token": csrf_of(bia.get("/conta/tokens"))})
    assert other.status_code == 404 and _api_status(web, token) == 200  # not hers to revoke
    no_csrf = ana.post(f"/conta/tokens/{token_id}/revogar", data={})
    assert no_csrf.status_code == 403 and _api_status(web, token) == 200

    revoked = ana.post(f"/conta/tokens/{token_id}/revogar", data={"csrf_token": csrf_of(ana.get("/conta/tokens"))},
                       follow_redirects=False)
    assert revoked.status_code == 303
    assert _api_status(web, token) == 401
    assert "revogado" in ana.get("/conta/tokens").text
