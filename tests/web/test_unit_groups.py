"""The unit list grouped by holder (CPF/CNPJ) or by portal login, a generating unit with its beneficiaries."""

from __future__ import annotations

import re

from storage.engine import session_scope
from storage.generation import set_expected_generation
from storage.mail_models import Invoice

LOGIN, OTHER = "52998224725", "11144477735"


def _groups(page: str) -> dict[str, list[tuple[str, str]]]:
    """Each group's heading → its rows as (installation, role)."""
    found = {}
    for section in re.findall(r'<section class="card unit-group" aria-label="([^"]+)">(.*?)</section>', page, re.S):
        rows = re.findall(r"<tr>\s*<td><a [^>]+>[^<]+</a></td>\s*<td>(\d+)</td>\s*<td>([^<]+)</td>", section[1])
        found[section[0]] = rows
    return found


def test_units_grouped_by_login_and_by_holder_with_the_plant_first(web):
    ana = web.user("ana@solar.example.com")
    bob = web.user("bob@outra.example.com")
    ids = {n: web.unit(ana, n, portal_login=LOGIN, portal_password="Senha-1", holder_document=LOGIN,
                       client_name="Maria") for n in (1, 2, 3)}
    ids[4] = web.unit(ana, 4, holder_document=LOGIN, client_name="Maria")  # no login: its own inbox
    ids[5] = web.unit(ana, 5, portal_login=OTHER, portal_password="Senha-2", holder_document=OTHER,
                      client_name="João")
    web.unit(bob, 6, holder_document=LOGIN, client_name="Maria")  # another integrator's
    with session_scope(web.app.engine) as session:
        set_expected_generation(session=session, unit_id=ids[3], values=["900"])  # the plant
        session.add(Invoice(unit_id=ids[1], reference_month="2026-10", status="parsed", fingerprint="f" * 64,
                            data={"scee": {"energy_kwh": "0", "compensated_kwh": "210"}}, pdf_sha256="a" * 64,
                            source="email", installation="3000000001"))
    client = web.login("ana@solar.example.com")

    by_login = _groups(client.get("/unidades?agrupar=login").text)
    assert by_login == {
        "Login 529.982.247-25": [("3000000003", "Geradora"), ("3000000001", "Beneficiária"), ("3000000002", "-")],
        "Maria (sem login do portal)": [("3000000004", "-")],
        "Login 111.444.777-35": [("3000000005", "-")]}
    page = client.get("/unidades?agrupar=login").text
    assert "usina geradora e beneficiárias" in page and "3000000006" not in page

    by_holder = _groups(client.get("/unidades?agrupar=titular").text)
    assert list(by_holder) == ["Titular Maria (529.982.247-25)", "Titular João (111.444.777-35)"]
    assert [n for n, _ in by_holder["Titular Maria (529.982.247-25)"]] == [
        "3000000003", "3000000001", "3000000002", "3000000004"]
    assert _groups(client.get("/unidades").text) == {}  # not grouped unless asked
    assert _groups(client.get("/unidades?agrupar=qualquer").text) == {}
