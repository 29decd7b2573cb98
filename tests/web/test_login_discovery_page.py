"""The discovery checklist of a login and erasing its password, from the dashboard and the API.

The search is queued for the service's `discovery_queue` job (the browser half is tests/bot/test_discovery.py
and the whole cycle tests/bot/test_login_cycle.py); here the page shows a recorded discovery.
"""

from __future__ import annotations

import re

from sqlmodel import select

from service.scheduler import Service
from storage.discovery import claim_discovery, record_discovery
from storage.engine import session_scope
from storage.login_models import PortalLogin
from storage.models import Unit
from tests.aio import off_the_loop
from tests.web.conftest import csrf_of

LOGIN = "52998224725"
OTHER_CNPJ = "11222333000181"
LISTED = [
    {"installation": "3000000001", "status": "Ativa", "customer_document": LOGIN, "address": "Rua A, 1"},
    {"installation": "3000000002", "status": "Ativa", "customer_document": LOGIN, "address": "Rua B, 2"},
    {"installation": "3000000003", "status": "Ativa", "customer_document": OTHER_CNPJ, "address": "Fazenda C"},
    {"installation": "3000000004", "status": "Suspensa", "customer_document": LOGIN, "address": "Rua D, 4"},
]


def _flat(response) -> str:  # noqa: ANN001 - httpx.Response
    """The page with its whitespace collapsed, as a person reads it."""
    return " ".join(response.text.split())


def _row(page: str, installation: str) -> str:
    return re.search(rf"<tr[^>]*>(?:(?!</tr>).)*?<td>{installation}</td>.*?</tr>", page, re.S).group(0)


def test_the_checklist_shows_what_is_registered_waiting_and_suspended_and_registers_in_one_step(web):
    ana = web.user("ana@solar.example.com")
    web.user("bob@outra.example.com")
    first = web.unit(ana, 1, portal_login=LOGIN, portal_password="Senha-Portal-9", holder_document=LOGIN,
                     forward_to=["maria@example.com"])
    with session_scope(web.app.engine) as session:
        login_id = session.get(Unit, first).portal_login_id
        record_discovery(session=session, login_id=login_id, listed=LISTED)

    client = web.login("ana@solar.example.com")
    assert "Buscar instalações deste login" in client.get(f"/logins/{login_id}").text
    page = client.get(f"/logins/{login_id}/instalacoes")
    assert page.status_code == 200
    assert "4 instalação(ões) de 2 clientes (CPF/CNPJ), 1 cadastrada(s), 3 aguardando cadastro" in _flat(page)
    assert f'href="/unidades/{first}">Cadastrada' in _row(page.text, "3000000001")
    for active in ("3000000002", "3000000003"):
        assert "Aguardando cadastro" in _row(page.text, active) and " checked" in _row(page.text, active)
    suspended = _row(page.text, "3000000004")
    assert 'class="warning"' in suspended and "atenção: suspensa" in suspended and " checked" not in suspended

    bob = web.login("bob@outra.example.com")
    assert bob.get(f"/logins/{login_id}/instalacoes").status_code == 404
    token = csrf_of(page)
    assert bob.post(f"/logins/{login_id}/buscar", data={"csrf_token": csrf_of(bob.get("/logins"))}).status_code == 404

    queued = client.post(f"/logins/{login_id}/buscar", data={"csrf_token": token}, follow_redirects=False)
    assert queued.status_code == 303
    assert "Busca agendada" in client.get(f"/logins/{login_id}/instalacoes").text
    with session_scope(web.app.engine) as session:
        assert claim_discovery(session=session) == login_id
    with session_scope(web.app.engine) as session:
        assert claim_discovery(session=session) is None  # taken once
        assert session.get(PortalLogin, login_id).discovery_status == "running"

    done = client.post(f"/logins/{login_id}/instalacoes", follow_redirects=True, data={
        "csrf_token": token, "installation": ["3000000002", "3000000003"]})
    assert "2 instalação(ões) cadastrada(s) neste login." in done.text
    with session_scope(web.app.engine) as session:
        units = session.exec(select(Unit).where(Unit.portal_login_id == login_id).order_by(Unit.id)).all()
        assert [(u.installation, u.holder_document, u.forward_to) for u in units] == [
            ("3000000001", LOGIN, ["maria@example.com"]), ("3000000002", LOGIN, ["maria@example.com"]),
            ("3000000003", OTHER_CNPJ, ["maria@example.com"])]
        assert len({u.inbox_address for u in units}) == 1
    assert "1 aguardando cadastro" in _flat(done)  # only the suspended one


def test_the_service_runs_a_queued_search_and_records_how_it_ended(web):
    ana = web.user("ana@solar.example.com")
    first = web.unit(ana, 1, portal_login=LOGIN, holder_document=LOGIN)  # no password: nothing to log in with
    client = web.login("ana@solar.example.com")
    with session_scope(web.app.engine) as session:
        login_id = session.get(Unit, first).portal_login_id
    page = client.get(f"/logins/{login_id}/instalacoes")
    assert "A senha do portal deste login não está guardada" in _flat(page)
    client.post(f"/logins/{login_id}/buscar", data={"csrf_token": csrf_of(page)})
    service = Service(web.app)
    assert off_the_loop(service.discovery_queue) == {"logins": {"password_required": 1}}
    assert off_the_loop(service.discovery_queue) == {}
    assert "Última busca: A senha do portal deste login não está guardada" in _flat(client.get(
        f"/logins/{login_id}/instalacoes"))


def test_erasing_the_password_from_the_dashboard_and_the_api(web):
    ana = web.user("ana@solar.example.com")
    web.user("bob@outra.example.com")
    first = web.unit(ana, 1, portal_login=LOGIN, portal_password="Senha-Portal-9", holder_document=LOGIN)
    second = web.unit(ana, 2, portal_login="11144477735", portal_password="Outra-7", holder_document="11144477735")
    with session_scope(web.app.engine) as session:
        login_id, other_id = (session.get(Unit, u).portal_login_id for u in (first, second))
    client = web.login("ana@solar.example.com")
    page = client.get(f"/logins/{login_id}")
    assert "apagadas 30 dias após a última adesão" in _flat(page)
    assert "O prazo começa quando todas as unidades deste login estiverem aderidas." in _flat(page)
    bob_api = {"Authorization": f"Bearer {web.token('bob@outra.example.com')}"}
    ana_api = {"Authorization": f"Bearer {web.token('ana@solar.example.com')}"}
    with web.client() as api:
        assert api.post(f"/api/v1/logins/{login_id}/erase-credentials", headers=bob_api).status_code == 404
        erased = api.post(f"/api/v1/logins/{other_id}/erase-credentials", headers=ana_api)
        assert erased.status_code == 200 and erased.json() == {"login_id": other_id, "passwords": 1, "sessions": 0}
        assert api.get(f"/api/v1/logins/{other_id}", headers=ana_api).json()["has_password"] is False
    done = client.post(f"/logins/{login_id}/apagar-senha", data={"csrf_token": csrf_of(page)}, follow_redirects=True)
    assert done.status_code == 200 and "Senha e sessões do portal apagadas." in _flat(done)
    assert "Nenhuma senha guardada." in _flat(done)
    with session_scope(web.app.engine) as session:
        assert [session.get(PortalLogin, i).password_enc for i in (login_id, other_id)] == [None, None]
