"""The installation list of every family: number, UC code, address, status badge and customer (CNPJ)."""

import re

import pytest

from simulator.portal.models import StoreError

ACME = "11.222.333/0001-81"
BETA = "44.555.666/0001-81"
ACME_DIGITS = "11222333000181"
BETA_DIGITS = "44555666000181"


def _login_with_three(simulator):
    """A login with three installations, the second one suspended."""
    customer = simulator.add_customer(installations=())
    for number, status in (("3000010001", "Ativa"), ("3000010002", "Suspensa"), ("3000010003", "Ativa")):
        simulator.admin.add_installation(customer.id, number, status=status,
                                         address_lines=[f"RUA {number[-1]} 10", "CENTRO", "30110-000 BH - MG"])
    return customer


def _login_with_two_customers(simulator):
    """A login (e-mail) holding 12 installations: 7 of one CNPJ, 5 of another, one closed."""
    customer = simulator.add_customer(name="Grupo Solar", document=None, email="grupo@example.com",
                                      installations=())
    for i in range(12):
        document, name = (ACME, "ACME ENERGIA LTDA") if i < 7 else (BETA, "BETA AGRO LTDA")
        simulator.admin.add_installation(customer.id, f"30000200{i:02d}", holder_document=document,
                                         holder_name=name, status="Encerrada" if i == 11 else "Ativa")
    return customer


@pytest.mark.parametrize("variant, field", [("new", "userId"), ("legacy", "Acesso"), ("agv", "Acesso")])
def test_every_family_lists_number_uc_address_and_status(simulator, variant, field):
    customer = _login_with_three(simulator)
    simulator.admin.set_scenario({"variant": variant})
    with simulator.http() as client:
        simulator.login(client, "12345678909", customer.password, variant_field=field)
        page = client.get("/Instalacoes").text
    for number in ("3000010001", "3000010002", "3000010003"):
        uc = simulator.admin.installation(number)["uc_code"]
        assert number in page and uc in page
        assert f"RUA {number[-1]} 10" in page
    assert page.count("Suspensa") == 1
    assert page.count("Ativa") == 2
    assert "123.456.789-09" in page


def test_the_spa_api_gives_status_and_customer(simulator):
    customer = _login_with_two_customers(simulator)
    simulator.admin.set_scenario({"variant": "spa"})
    with simulator.http() as client:
        simulator.login(client, "grupo@example.com", customer.password, variant_field="userId")
        me = client.get("/portal/api/me").json()
    assert len(me["installations"]) == 12
    assert [i["client_document"] for i in me["installations"]].count(BETA_DIGITS) == 5
    assert [i["status"] for i in me["installations"]].count("Encerrada") == 1
    assert me["installations"][11]["status"] == "Encerrada"
    assert all(re.fullmatch(r"\d{15}", i["uc_code"]) for i in me["installations"])


def test_two_customers_under_one_login_show_the_client_selector(simulator):
    customer = _login_with_two_customers(simulator)
    simulator.admin.set_scenario({"variant": "legacy"})
    with simulator.http() as client:
        simulator.login(client, "grupo@example.com", customer.password)
        everything = client.get("/Instalacoes").text
        beta_only = client.get("/Instalacoes", params={"cliente": BETA_DIGITS}).text
    assert 'id="ddCliente"' in everything
    assert f'value="{ACME_DIGITS}"' in everything and f'value="{BETA_DIGITS}"' in everything
    assert everything.count("Nº da instalação: ") == 12
    assert everything.count(f"<td>{BETA}</td>") == 5
    assert everything.count("Encerrada") == 1
    assert beta_only.count("Nº da instalação: ") == 5
    assert ACME not in beta_only.split('id="tblInstalacoes"')[1]


def test_status_is_changed_over_the_admin_api_and_validated(simulator):
    _login_with_three(simulator)
    assert simulator.admin.installation("3000010001")["status"] == "Ativa"
    changed = simulator.admin.set_installation_status("3000010001", "Encerrada")
    assert changed["status"] == "Encerrada"
    assert simulator.store.installation("3000010001").status == "Encerrada"
    assert simulator.store.events()[-1]["kind"] == "installation_status"
    with pytest.raises(StoreError):
        simulator.store.set_installation_status("3000010001", "Cancelada")
    with pytest.raises(StoreError):
        simulator.store.add_installation(customer_id=changed["customer_id"], number="3000010009", status="x")


def test_an_older_store_file_gains_the_status_column(tmp_path):
    import sqlite3

    from simulator.portal.store import SCHEMA, Store

    path = tmp_path / "portal.db"
    old = sqlite3.connect(path)
    old.executescript(SCHEMA.replace(",\n    status TEXT NOT NULL DEFAULT 'Ativa'", ""))
    old.execute("INSERT INTO customers (name, document, password_salt, password_hash, created_at)"
                " VALUES ('Maria', '12345678909', 's', 'h', 'now')")
    old.execute("INSERT INTO installations (number, uc_code, customer_id, customer_number, holder_name,"
                " holder_document, address, supply_type, tariff_class, tariff_subclass, has_generation, created_at)"
                " VALUES ('3000055479', '112972140182500', 1, '7000055479', 'Maria', '12345678909', '[]',"
                " 'bifasico', 'Residencial', 'Residencial', 1, 'now')")
    old.commit()
    old.close()
    store = Store(str(path))
    try:
        assert store.installation("3000055479").status == "Ativa"
    finally:
        store.close()
