"""An integrator cannot read or change another integrator's unit, through the pages or the API."""

from __future__ import annotations

from sqlmodel import select

from storage.engine import session_scope
from storage.mail_models import Invoice
from storage.models import Unit
from tests.processor.mime import bill
from tests.web.conftest import csrf_of


def _setup(web):
    ana, bia = web.user("ana@solar.example.com"), web.user("bia@solar.example.com")
    unit_a = web.unit(ana, 1, portal_password="Senha-Portal-A1")
    unit_b = web.unit(bia, 2)
    return ana, bia, unit_a, unit_b


def test_pages_show_and_change_only_own_units(web, fake_runner):
    _, _, unit_a, unit_b = _setup(web)
    ana = web.login("ana@solar.example.com")
    upload = ana.post(f"/unidades/{unit_a}/faturas", data={"csrf_token": csrf_of(ana.get(f"/unidades/{unit_a}"))},
                      files=[("arquivos", ("a.pdf", bill("3000000001", "2026-09").pdf, "application/pdf"))])
    assert upload.status_code == 200 and "cadastrada" in upload.text
    with session_scope(web.app.engine) as session:
        invoice_a = session.exec(select(Invoice)).one().id

    bia = web.login("bia@solar.example.com")
    listing = bia.get("/unidades")
    assert f"/unidades/{unit_b}" in listing.text and f"/unidades/{unit_a}" not in listing.text
    assert "Cliente 1" not in bia.get("/unidades", params={"q": "Cliente"}).text
    token = csrf_of(listing)
    for path in (f"/unidades/{unit_a}", f"/unidades/{unit_a}/relatorio", f"/unidades/{unit_a}/relatorio.csv",
                 f"/unidades/{unit_a}/adesao", f"/unidades/{unit_a}/tentativas/1/captura.png",
                 f"/faturas/{invoice_a}/pdf"):
        assert bia.get(path).status_code == 404, path
    for guess in range(1, 30):  # guessed ids: only B's own unit answers
        if guess != unit_b:
            assert bia.get(f"/unidades/{guess}").status_code == 404
            assert bia.get(f"/faturas/{guess}/pdf").status_code == 404
    change = bia.post(f"/unidades/{unit_a}/cadastrar-email",
                      data={"csrf_token": token, "forward_to": "ladrao@example.com", "email_bills_enabled": "1"})
    assert change.status_code == 404
    assert bia.post(f"/unidades/{unit_a}/aderir", data={"csrf_token": token}).status_code == 404
    stolen = bia.post(f"/unidades/{unit_a}/faturas", data={"csrf_token": token},
                      files=[("arquivos", ("x.pdf", bill("3000000001", "2026-08").pdf, "application/pdf"))])
    assert stolen.status_code == 404
    assert fake_runner.queued == []
    with session_scope(web.app.engine) as session:
        unit = session.get(Unit, unit_a)
        assert unit.forward_to == ["cliente1@example.com"]


def test_api_reads_and_changes_only_own_units(web, fake_runner):
    _, _, unit_a, unit_b = _setup(web)
    ana_token, bia_token = web.token("ana@solar.example.com"), web.token("bia@solar.example.com")
    with web.client() as api:
        ana = {"Authorization": f"Bearer {ana_token}"}
        bia = {"Authorization": f"Bearer {bia_token}"}
        assert api.get("/api/v1/units").status_code == 401
        assert api.get("/api/v1/units", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert [u["id"] for u in api.get("/api/v1/units", headers=bia).json()] == [unit_b]
        for guess in range(1, 30):
            if guess == unit_b:
                continue
            assert api.get(f"/api/v1/units/{guess}", headers=bia).status_code == 404
            assert api.get(f"/api/v1/units/{guess}/status", headers=bia).status_code == 404
            assert api.get(f"/api/v1/units/{guess}/invoices", headers=bia).status_code == 404
            assert api.get(f"/api/v1/invoices/{guess}", headers=bia).status_code == 404
            assert api.get(f"/api/v1/invoices/{guess}/pdf", headers=bia).status_code == 404
        assert api.patch(f"/api/v1/units/{unit_a}", headers=bia, json={"client_name": "Outro"}).status_code == 404
        assert api.post(f"/api/v1/units/{unit_a}/adhesion", headers=bia).status_code == 404
        assert api.delete(f"/api/v1/units/{unit_a}", headers=bia).status_code == 404
        assert fake_runner.queued == []
        mine = api.get(f"/api/v1/units/{unit_a}", headers=ana)
        assert mine.status_code == 200 and mine.json()["client_name"] == "Cliente 1"
        assert mine.json()["has_portal_password"] is True and "Senha-Portal-A1" not in mine.text
