"""Adhesion from the dashboard against the simulator: a failure shows the action and the owner-only screenshot."""

from __future__ import annotations

import pytest

from storage.engine import session_scope
from storage.models import Unit
from tests.web.conftest import add_customer_unit, csrf_of

pytestmark = pytest.mark.browser


def test_failed_adhesion_shows_the_action_and_the_screenshot_to_the_owner_only(live_web, simulator):
    customer = simulator.add_customer(password="Senha@Certa1")
    customer.password = "Senha@Errada9"  # the client changed it and did not tell the integrator
    ana = live_web.user("ana@solar.example.com")
    live_web.user("bia@solar.example.com")
    unit_id = add_customer_unit(live_web, ana, customer)
    client = live_web.login("ana@solar.example.com")
    page = client.get(f"/unidades/{unit_id}")
    answer = client.post(f"/unidades/{unit_id}/aderir", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 303
    assert client.get(f"/unidades/{unit_id}/adesao").json()["status"] in {"pending", "running"}
    live_web.runner.join(120)
    status = client.get(f"/unidades/{unit_id}/adesao").json()
    assert status["status"] == "invalid_credentials" and status["next_actor"] == "Cliente" and status["final"]
    assert "senha atual da Agência Virtual" in status["action"]
    page = client.get(f"/unidades/{unit_id}")
    assert "Login ou senha do portal inválidos" in page.text and "Senha@Errada9" not in page.text
    assert "Senha@Certa1" not in page.text
    (src,) = [part.split('"')[0] for part in page.text.split('src="')[1:] if "captura.png" in part]
    image = client.get(src)
    assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.headers["cache-control"] == "private, no-store"
    assert live_web.login("bia@solar.example.com").get(src).status_code == 404
    with session_scope(live_web.app.engine) as session:
        assert session.get(Unit, unit_id).adhesion_status == "invalid_credentials"
