"""Unidades, the unit form, "Cadastrar e-mail" (write-only secrets), filters and the CSV import."""

from __future__ import annotations

from sqlmodel import select

from storage.engine import session_scope
from storage.models import AdhesionStatus, Unit
from storage.units import pdf_password, portal_password, set_adhesion_status
from tests.web.conftest import csrf_of


def test_new_unit_form_validates_and_registers_the_unit_for_its_integrator(web):
    ana = web.user("ana@solar.example.com")
    client = web.login("ana@solar.example.com")
    token = csrf_of(client.get("/unidades/nova"))
    bad = client.post("/unidades/nova", data={"csrf_token": token, "client_name": "Maria", "installation": "3000055479",
                                              "holder_document": "111.111.111-12"})
    assert bad.status_code == 422 and "holder_document" in bad.text
    missing = client.post("/unidades/nova", data={"csrf_token": token, "installation": "3000055479"})
    assert missing.status_code == 422 and "Preencha os campos obrigatórios" in missing.text
    ok = client.post("/unidades/nova", data={"csrf_token": token, "client_name": "Maria", "installation": "3000055479",
                                             "holder_document": "529.982.247-25", "portal_login": "maria@example.com",
                                             "portal_password": "Portal-Secreta-1"})
    assert ok.status_code == 303
    again = client.post("/unidades/nova", data={"csrf_token": token, "client_name": "Outra",
                                                "installation": "3000055479", "holder_document": "529.982.247-25"})
    assert again.status_code == 409 and "já está cadastrada" in again.text
    with session_scope(web.app.engine) as session:
        (unit,) = session.exec(select(Unit)).all()
        assert unit.integrator_id == ana
        assert portal_password(session=session, unit=unit, keys=web.app.keys()) == "Portal-Secreta-1"
    page = client.get(ok.headers["location"])
    assert "Portal-Secreta-1" not in page.text and "maria@example.com" not in page.text  # write-only credentials
    assert unit.inbox_address in page.text and "Ativar faturas por e-mail" in page.text


def test_cadastrar_email_saves_and_never_shows_secrets_back(web):
    ana = web.user("ana@solar.example.com")
    unit_id = web.unit(ana, 3, portal_login="maria@example.com", portal_password="Antiga-Senha-1")
    client = web.login("ana@solar.example.com")
    token = csrf_of(client.get(f"/unidades/{unit_id}"))
    saved = client.post(f"/unidades/{unit_id}/cadastrar-email", data={
        "csrf_token": token, "forward_to": "joao@example.com; maria@example.com", "pdf_password": "PDF-12345",
        "portal_password": "", "portal_login": ""})
    assert saved.status_code == 303
    page = client.get(saved.headers["location"])
    assert "Configurações salvas." in page.text
    assert "PDF-12345" not in page.text and "Antiga-Senha-1" not in page.text
    assert "cadastrada — deixe em branco para manter" in page.text
    with session_scope(web.app.engine) as session:
        unit = session.get(Unit, unit_id)
        assert unit.forward_to == ["joao@example.com", "maria@example.com"]
        assert unit.email_bills_enabled is False  # the switch was not sent: off
        assert pdf_password(unit=unit, keys=web.app.keys()) == "PDF-12345"
        assert portal_password(session=session, unit=unit, keys=web.app.keys()) == "Antiga-Senha-1"  # blank kept it
        assert unit.portal_login == "maria@example.com"
    cleared = client.post(f"/unidades/{unit_id}/cadastrar-email", data={
        "csrf_token": token, "forward_to": "joao@example.com", "email_bills_enabled": "1", "clear_pdf_password": "1",
        "portal_password": "Nova-Senha-22"})
    assert cleared.status_code == 303
    with session_scope(web.app.engine) as session:
        unit = session.get(Unit, unit_id)
        assert unit.email_bills_enabled is True and unit.pdf_password_enc is None
        assert portal_password(session=session, unit=unit, keys=web.app.keys()) == "Nova-Senha-22"


def test_units_are_searched_and_filtered_by_state_and_by_who_must_act(web):
    ana = web.user("ana@solar.example.com")
    ids = [web.unit(ana, n) for n in (11, 12, 13)]
    with session_scope(web.app.engine) as session:
        set_adhesion_status(session=session, unit=session.get(Unit, ids[1]), status=AdhesionStatus.INVALID_CREDENTIALS)
        set_adhesion_status(session=session, unit=session.get(Unit, ids[2]), status=AdhesionStatus.ENROLLED)
    client = web.login("ana@solar.example.com")

    def shown(**params):
        text = client.get("/unidades", params=params).text
        return [i for i in ids if f'href="/unidades/{i}"' in text]

    assert shown() == ids
    assert shown(q="cliente 12") == [ids[1]]
    assert shown(q="3000000013") == [ids[2]]
    assert shown(estado="enrolled") == [ids[2]]
    assert shown(quem="client") == [ids[1]]
    assert shown(quem="bot") == [ids[0]]
    assert client.get("/unidades", params={"estado": "bogus"}).status_code == 422


def test_csv_import_reports_each_rejected_row_and_assigns_the_units(web):
    ana = web.user("ana@solar.example.com")
    client = web.login("ana@solar.example.com")
    csv_text = ("installation;client_name;holder_document;forward_to\n"
                "3000000021;Cliente A;529.982.247-25;a@example.com\n"
                "3000000022;Cliente B;111.111.111-12;b@example.com\n"
                "3000000023;Cliente C;52998224725;c@example.com\n")
    answer = client.post("/unidades/importar", data={"csrf_token": csrf_of(client.get("/unidades/importar"))},
                         files={"arquivo": ("unidades.csv", csv_text.encode(), "text/csv")})
    assert answer.status_code == 200
    assert "2 unidade(s) cadastrada(s) de 3 linha(s); 1 rejeitada(s)" in answer.text
    assert "<td>3</td><td>holder_document</td>" in answer.text
    with session_scope(web.app.engine) as session:
        assert sorted((u.installation, u.integrator_id) for u in session.exec(select(Unit)).all()) == [
            ("3000000021", ana), ("3000000023", ana)]


def test_unknown_pages_and_bad_requests_answer_in_portuguese(web):
    web.user("ana@solar.example.com")
    client = web.login("ana@solar.example.com")
    missing = client.get("/nada-aqui")
    assert missing.status_code == 404 and "Página não encontrada." in missing.text
    bad = client.get("/unidades/abc")
    assert bad.status_code == 422 and "Dados inválidos" in bad.text
    api = client.get("/api/v1/units/abc", headers={"Authorization": "Bearer x"})
    assert api.status_code in {401, 422} and api.headers["content-type"] == "application/json"
