"""The report pages in Chromium: a client's two units over 13 months, each page's screenshot kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.processor.mime import bill
from tests.web.conftest import PASSWORD, Web, csrf_of

pytestmark = pytest.mark.browser

MONTHS = [f"{2025 + (m > 12)}-{(m - 1) % 12 + 1:02d}" for m in range(11, 24)]  # 2025-11 … 2026-11


def _upload(web: Web, unit_id: int, installation: str, months: list[str]) -> None:
    client = web.login("ana@solar.example.com")
    form = client.get(f"/unidades/{unit_id}")
    files = [("arquivos", (f"{m}.pdf", bill(installation, m).pdf, "application/pdf")) for m in months]
    response = client.post(f"/unidades/{unit_id}/faturas", data={"csrf_token": csrf_of(form)}, files=files)
    assert response.status_code == 200
    assert all(f"fatura de {month} cadastrada" in response.text for month in months), response.text


def test_unit_and_client_reports(page: Page, web: Web, output_path):
    ana = web.user("ana@solar.example.com")
    house = web.unit(ana, 1, holder_document="29141777638", client_name="Maria Souza")
    farm = web.unit(ana, 2, holder_document="29141777638", client_name="Maria Souza")
    _upload(web, house, "3000000001", MONTHS)
    _upload(web, farm, "3000000002", MONTHS[-3:])

    page.goto(f"{web.url}/entrar")
    page.get_by_label("E-mail").fill("ana@solar.example.com")
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.goto(f"{web.url}/unidades/{house}/relatorio")
    expect(page.get_by_role("heading", name="Relatório detalhado")).to_be_visible()
    expect(page.locator("#relatorio tbody tr")).to_have_count(13)
    expect(page.get_by_role("heading", name="Resumo de nov/26")).to_be_visible()
    for name in ("Energia (kWh)", "Energia compensada (kWh)", "Saldo de créditos (kWh)",
                 "Valor pago e valor sem energia solar (R$)"):
        expect(page.get_by_role("img", name=name)).to_be_visible()
    page.screenshot(path=Path(output_path) / "relatorio-unidade.png", full_page=True)

    page.get_by_role("link", name="Relatório do cliente (2 unidades)").click()
    expect(page.get_by_role("heading", name="Relatório do cliente")).to_be_visible()
    expect(page.get_by_role("heading", name="Todas as unidades")).to_be_visible()
    expect(page.locator(f"#unidade-{house}")).to_contain_text("Instalação 3000000001")
    expect(page.locator(f"#unidade-{farm}")).to_contain_text("Instalação 3000000002")
    expect(page.locator("#cliente-total tbody tr").filter(has_text="nov/26")).to_contain_text("Fatura")
    page.screenshot(path=Path(output_path) / "relatorio-cliente.png", full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=Path(output_path) / "relatorio-cliente-impressao.png", full_page=True)
    expect(page.get_by_role("button", name="Imprimir")).to_be_hidden()
