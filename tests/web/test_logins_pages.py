"""Portal logins in the dashboard and the API: a login with its units, "Cadastrar esta instalação" from a waiting
bill, and another integrator seeing none of it."""

from __future__ import annotations

from sqlmodel import select

from storage.engine import session_scope
from storage.mail_models import MailMessage
from storage.models import Unit, utcnow
from tests.web.conftest import csrf_of

LOGIN = "52998224725"


def _waiting_message(web, login_id: int) -> int:
    """A bill the pipeline left waiting (as processor.pipeline records it) for installation 3000000077."""
    with session_scope(web.app.engine) as session:
        row = MailMessage(account="main", folder="INBOX", uidvalidity=1, uid=9, stage="unregistered_installation",
                          portal_login_id=login_id, bill_installation="3000000077",
                          bill_holder_name="FAZENDA BOA VISTA",
                          user_message="Chegou uma fatura da instalação 3000000077, que não está cadastrada.",
                          created_at=utcnow(), updated_at=utcnow())
        session.add(row)
        session.flush()
        return row.id


def _login_of(web, unit_id: int) -> int:
    with session_scope(web.app.engine) as session:
        return session.get(Unit, unit_id).portal_login_id


def test_a_login_its_units_and_registering_a_waiting_installation(web):
    ana = web.user("ana@solar.example.com")
    web.user("bob@outra.example.com")
    first = web.unit(ana, 1, portal_login=LOGIN, portal_password="Senha-Portal-9", holder_document=LOGIN)
    web.unit(ana, 2, portal_login=LOGIN, portal_password="Senha-Portal-9", holder_document=LOGIN)
    login_id = _login_of(web, first)
    message_id = _waiting_message(web, login_id)

    ana_api = {"Authorization": f"Bearer {web.token('ana@solar.example.com')}"}
    bob_api = {"Authorization": f"Bearer {web.token('bob@outra.example.com')}"}
    with web.client() as api:
        listed = api.get("/api/v1/logins", headers=ana_api)
        assert listed.status_code == 200, listed.text
        [login] = listed.json()
        assert login["id"] == login_id and len(login["units"]) == 2 and login["has_password"] is True
        assert {u["inbox_address"] for u in login["units"]} == {login["inbox_address"]}
        assert [w["installation"] for w in login["waiting"]] == ["3000000077"]
        assert "Senha-Portal-9" not in listed.text
        assert api.get("/api/v1/logins", headers=bob_api).json() == []
        assert api.get(f"/api/v1/logins/{login_id}", headers=bob_api).status_code == 404
        stolen = api.post(f"/api/v1/waiting-bills/{message_id}/unit", headers=bob_api, json={})
        assert stolen.status_code == 404

    client = web.login("ana@solar.example.com")
    unit_page = client.get(f"/unidades/{first}")
    assert "um só e-mail de acesso por login" in unit_page.text
    login_page = client.get(f"/logins/{login_id}")
    assert login_page.status_code == 200 and "Cadastrar esta instalação" in login_page.text
    assert "3000000077" in login_page.text
    form = client.get(f"/faturas-aguardando/{message_id}/cadastrar")
    assert form.status_code == 200
    assert 'value="3000000077"' in form.text and 'value="FAZENDA BOA VISTA"' in form.text
    assert f'value="{LOGIN}"' in form.text  # the holder document the login's units have
    done = client.post(f"/faturas-aguardando/{message_id}/cadastrar", follow_redirects=False, data={
        "csrf_token": csrf_of(form), "client_name": "Fazenda Boa Vista", "holder_document": LOGIN,
        "forward_to": "fazenda@example.com"})
    assert done.status_code == 303, done.text
    with session_scope(web.app.engine) as session:
        added = session.exec(select(Unit).where(Unit.installation == "3000000077")).one()
        message = session.get(MailMessage, message_id)
    assert done.headers["location"].startswith(f"/unidades/{added.id}")
    assert added.portal_login_id == login_id and added.integrator_id == ana and added.forward_to == [
        "fazenda@example.com"]
    assert message.stage == "claimed"  # the next mail pass processes it (tests/processor/test_login_routing.py)
    again = client.get(f"/faturas-aguardando/{message_id}/cadastrar")
    assert again.status_code == 404
