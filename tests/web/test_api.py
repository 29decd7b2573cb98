"""The JSON API: CRUD, adhesion trigger and status, bills and uploads, OpenAPI; schemathesis over the document."""

from __future__ import annotations

from datetime import datetime, timedelta

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.processor.mime import bill


def test_the_api_takes_a_uc_code_as_printed_in_either_field(web):
    web.user("ana@solar.example.com")
    auth = {"Authorization": f"Bearer {web.token('ana@solar.example.com')}"}
    with web.client() as api:
        typed = api.post("/api/v1/units", headers=auth, json={
            "installation": "4.533.142.018-50", "client_name": "Maria", "holder_document": "529.982.247-25"})
        assert typed.status_code == 201, typed.text
        assert (typed.json()["installation"], typed.json()["uc_code"]) == (None, "000453314201850")
        again = api.post("/api/v1/units", headers=auth, json={
            "uc_code": "000453314201850", "client_name": "Outra", "holder_document": "52998224725"})
        assert again.status_code == 409
        bad = api.post("/api/v1/units", headers=auth, json={
            "uc_code": "4.533.142.018", "client_name": "X", "holder_document": "52998224725"})
        assert bad.status_code == 400 and bad.json()["field"] == "uc_code"
        assert "Unidade Consumidora" in bad.json()["detail"]


def test_units_crud_adhesion_and_bills_through_the_api(web, fake_runner):
    web.user("ana@solar.example.com")
    auth = {"Authorization": f"Bearer {web.token('ana@solar.example.com')}"}
    with web.client() as api:
        created = api.post("/api/v1/units", headers=auth, json={
            "installation": "3000000001", "client_name": "Maria", "holder_document": "529.982.247-25",
            "portal_login": "maria@example.com", "portal_password": "Senha-Portal-9", "forward_to": ["m@example.com"]})
        assert created.status_code == 201, created.text
        unit = created.json()
        assert unit["has_portal_password"] is True and "Senha-Portal-9" not in created.text
        assert unit["next_actor"] == "bot" and unit["inbox_address"].startswith("uc-3000000001-")
        bad = api.post("/api/v1/units", headers=auth, json={"installation": "123", "client_name": "X",
                                                            "holder_document": "52998224725"})
        assert bad.status_code == 400 and bad.json()["field"] == "installation"
        dup = api.post("/api/v1/units", headers=auth, json={"installation": "3000000001", "client_name": "Y",
                                                            "holder_document": "52998224725"})
        assert dup.status_code == 409 and "unidade" not in dup.json()["detail"].split("cadastrada")[1]
        patched = api.patch(f"/api/v1/units/{unit['id']}", headers=auth, json={"email_bills_enabled": False})
        assert patched.status_code == 200 and patched.json()["email_bills_enabled"] is False
        assert api.get("/api/v1/units", headers=auth, params={"status": "pending"}).json()[0]["id"] == unit["id"]
        assert api.get("/api/v1/units", headers=auth, params={"status": "enrolled"}).json() == []

        queued = api.post(f"/api/v1/units/{unit['id']}/adhesion", headers=auth)
        assert queued.status_code == 202 and fake_runner.queued == [unit["id"]]
        assert api.get(f"/api/v1/units/{unit['id']}/status", headers=auth).json()["status"] == "pending"

        files = [("files", (f"{m}.pdf", bill("3000000001", m).pdf, "application/pdf")) for m in ("2026-09", "2026-10")]
        files.append(("files", ("nota.pdf", b"not a pdf", "application/pdf")))
        uploaded = api.post(f"/api/v1/units/{unit['id']}/invoices", headers=auth, files=files)
        assert uploaded.status_code == 201
        assert [r["outcome"] for r in uploaded.json()] == ["new", "new", "failed"]
        listed = api.get(f"/api/v1/units/{unit['id']}/invoices", headers=auth).json()
        assert [i["reference_month"] for i in listed] == ["2026-10", "2026-09"]
        detail = api.get(f"/api/v1/invoices/{listed[0]['id']}", headers=auth).json()
        assert detail["data"]["reference_month"] == "2026-10" and detail["amount_due"] == detail["data"]["amount_due"]
        pdf = api.get(f"/api/v1/invoices/{listed[0]['id']}/pdf", headers=auth)
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")

        assert api.delete(f"/api/v1/units/{unit['id']}", headers=auth).status_code == 204
        assert api.get(f"/api/v1/units/{unit['id']}", headers=auth).status_code == 404
        document = api.get("/api/v1/openapi.json").json()
        assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_api_conforms_to_its_openapi_document(web):
    """Every operation, a bounded number of generated requests each: no 5xx, every answer as documented.

    (schemathesis' pytest plugin does not load under pytest 9, so the cases are driven with hypothesis here.)
    """
    web.user("ana@solar.example.com")
    foreign = web.unit(web.user("bia@solar.example.com"), 5)  # someone else's unit: must stay invisible
    token = web.token("ana@solar.example.com")
    schema = schemathesis.openapi.from_url(f"{web.url}/api/v1/openapi.json")
    checks = [not_a_server_error, response_schema_conformance, status_code_conformance]
    seen: dict[str, set[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=checks)
            seen.setdefault(case.operation.label, set()).add(response.status_code)
            if (case.path_parameters or {}).get("unit_id") == foreign:
                assert response.status_code in {400, 404, 422}, case.path_parameters

        check()
    assert len(seen) == 15 and seen["GET /api/v1/units"] & {200}  # 11 + the 4 of portal logins (erasure)


def test_moments_are_answered_with_their_utc_offset_on_every_database(web):
    # SQLite keeps no time zone: its answers used to say `2026-12-02T10:00:00`, PostgreSQL's `…+00:00`.
    web.user("ana@solar.example.com")
    auth = {"Authorization": f"Bearer {web.token('ana@solar.example.com')}"}
    with web.client() as api:
        created = api.post("/api/v1/units", headers=auth, json={
            "installation": "3000000001", "client_name": "Maria", "holder_document": "529.982.247-25"})
        fetched = api.get(f"/api/v1/units/{created.json()['id']}", headers=auth).json()
    for key in ("created_at", "updated_at"):
        moment = datetime.fromisoformat(fetched[key])
        assert moment.utcoffset() == timedelta(0), (key, fetched[key])


def test_a_method_not_allowed_says_which_are(web):
    web.user("ana@solar.example.com")
    auth = {"Authorization": f"Bearer {web.token('ana@solar.example.com')}"}
    with web.client() as client:
        api = client.put("/api/v1/units", headers=auth)
        page = client.delete("/entrar")
    assert api.status_code == 405 and set(api.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert page.status_code == 405 and "GET" in page.headers["allow"]
    assert "Operação não permitida" in page.text
