"""Hostile API bodies (issue 14, items 8 and 9): a named input error with its field, never a 500."""

from __future__ import annotations

import pytest

UNIT = {"installation": "3000000001", "client_name": "Maria", "holder_document": "52998224725"}


@pytest.mark.parametrize("value", [None, 5, {"a": "m@example.com"}, [1], [None], True])
def test_forward_to_of_the_wrong_type_is_an_input_error_on_post_and_patch(web, value):
    web.user("ana@solar.example.com")
    auth = {"Authorization": f"Bearer {web.token('ana@solar.example.com')}"}
    with web.client() as api:
        posted = api.post("/api/v1/units", headers=auth, json={**UNIT, "forward_to": value})
        assert posted.status_code == 400 and posted.json()["field"] == "forward_to", posted.text
        created = api.post("/api/v1/units", headers=auth, json=UNIT)
        assert created.status_code == 201, created.text
        patched = api.patch(f"/api/v1/units/{created.json()['id']}", headers=auth, json={"forward_to": value})
        assert patched.status_code == 400 and patched.json()["field"] == "forward_to", patched.text
        assert api.get(f"/api/v1/units/{created.json()['id']}", headers=auth).json()["forward_to"] == []


@pytest.mark.parametrize(("field", "value"), [("client_name", "M" * 201), ("client_name", "Ma\x00ria"),
                                              ("portal_password", "p" * 1001)])
def test_long_values_and_nul_bytes_are_input_errors(web, field, value):
    web.user("ana@solar.example.com")
    auth = {"Authorization": f"Bearer {web.token('ana@solar.example.com')}"}
    with web.client() as api:
        posted = api.post("/api/v1/units", headers=auth, json={**UNIT, field: value})
        assert posted.status_code == 400 and posted.json()["field"] == field, posted.text


def test_the_alphanumeric_cnpj_is_accepted_by_the_api(web):
    web.user("ana@solar.example.com")
    auth = {"Authorization": f"Bearer {web.token('ana@solar.example.com')}"}
    with web.client() as api:
        posted = api.post("/api/v1/units", headers=auth, json={**UNIT, "holder_document": "12.ABC.345/01DE-35"})
        assert posted.status_code == 201, posted.text
        assert posted.json()["holder_document"] == "12ABC34501DE35"


def test_a_csv_over_the_size_limit_is_refused_on_the_dashboard_with_a_clear_message(web):
    from storage.unit_csv import MAX_CSV_BYTES
    from tests.web.conftest import csrf_of

    web.user("ana@solar.example.com")
    client = web.login("ana@solar.example.com")
    big = b"installation,client_name,holder_document\n" + b"3000000021,Cliente,52998224725\n" * (MAX_CSV_BYTES // 30)
    answer = client.post("/unidades/importar", data={"csrf_token": csrf_of(client.get("/unidades/importar"))},
                         files={"arquivo": ("unidades.csv", big, "text/csv")})
    assert answer.status_code == 413 and "limite de 5 MiB" in answer.text  # refused from its headers


def test_an_unbalanced_quote_is_refused_on_the_dashboard_with_its_line(web):
    from tests.web.conftest import csrf_of

    web.user("ana@solar.example.com")
    client = web.login("ana@solar.example.com")
    text = 'installation,client_name,holder_document\n3000000021,"Ana,52998224725\n3000000022,Bia,52998224725\n'
    answer = client.post("/unidades/importar", data={"csrf_token": csrf_of(client.get("/unidades/importar"))},
                         files={"arquivo": ("unidades.csv", text.encode(), "text/csv")})
    assert answer.status_code == 400 and "linha 2" in answer.text
