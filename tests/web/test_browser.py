"""The dashboard in Chromium: log in, add a unit, Cadastrar e-mail, adhesion against the simulator, bills,
upload, report. Every page's screenshot is kept in the test's output folder (test-results/…)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from config.wiring import build_pipeline
from processor.uploads import import_files
from tests.processor.mime import bill
from tests.web.conftest import PASSWORD, Web

pytestmark = pytest.mark.browser


def test_integrator_journey(page: Page, live_web: Web, simulator, output_path, tmp_path):
    shots = iter(range(1, 100))

    def shot(name: str) -> None:
        page.screenshot(path=Path(output_path) / f"{next(shots):02d}-{name}.png", full_page=True)

    customer = simulator.add_customer()
    live_web.user("ana@solar.example.com")
    page.set_default_timeout(15000)

    # Log in.
    page.goto(f"{live_web.url}/unidades")
    expect(page.get_by_role("heading", name="Entrar")).to_be_visible()
    page.get_by_label("E-mail").fill("ana@solar.example.com")
    page.get_by_label("Senha").fill(PASSWORD)
    shot("login")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Unidades")).to_be_visible()
    shot("unidades")

    # Add a unit.
    page.get_by_role("link", name="Nova unidade").click()
    page.get_by_label("Nome do cliente").fill(customer.name)
    page.get_by_label("CPF/CNPJ do titular").fill("529.982.247-25")
    page.get_by_label("Nº da instalação (10 dígitos)").fill(customer.installations[0])
    page.get_by_label("E-mail para receber as faturas").fill("cliente@example.com")
    page.get_by_label("Login da Agência Virtual (CPF/CNPJ ou e-mail)").fill(customer.document)
    page.get_by_label("Senha da Agência Virtual").fill(customer.password)
    shot("nova-unidade")
    page.get_by_role("button", name="Cadastrar unidade").click()
    expect(page.get_by_role("heading", name=customer.name)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Unidade cadastrada.")
    unit_id = int(re.search(r"/unidades/(\d+)", page.url).group(1))
    assert customer.password not in page.content()

    # "Cadastrar e-mail": the dialog's fields.
    page.get_by_role("button", name="Cadastrar e-mail").click()
    dialog = page.get_by_role("dialog", name="Cadastrar e-mail")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("textbox", name="E-mail para cadastro na concessionária", exact=True)).to_have_value(
        re.compile(rf"^uc-{customer.installations[0]}-[a-z0-9]{{4}}@faturas\.example\.com$"))
    expect(dialog.get_by_role("button", name="Copiar e-mail para cadastro na concessionária")).to_be_visible()
    expect(dialog.get_by_label("E-mail para receber as faturas")).to_have_value("cliente@example.com")
    expect(dialog.get_by_role("switch", name="Ativar faturas por e-mail")).to_be_checked()
    expect(dialog.get_by_label("Senha do PDF")).to_have_value("")
    expect(dialog.get_by_label("Senha da Agência Virtual")).to_have_value("")  # write-only
    shot("cadastrar-email")

    # Adhesion against the simulator, with live status.
    page.get_by_role("button", name="Aderir automaticamente").click()
    expect(page.locator("#adesao-status")).to_have_text("Aderida à Conta Digital", timeout=120_000)
    shot("adesao-concluida")
    assert simulator.admin.report()["customers"][0]["installations"][0]["enrolled"]

    # A bill after a billing cycle, ingested through the processor's import path.
    cycle = bill(customer.installations[0], "2026-11")
    path = tmp_path / cycle.filename
    path.write_bytes(cycle.pdf)
    (result,) = import_files(build_pipeline(live_web.app), unit_ref=str(unit_id), paths=[path])
    assert result.outcome == "new"
    page.reload()
    table = page.locator("#faturas")
    amount_pt = "R$\u00a0" + cycle.bill.amount_due.replace(".", ",")  # amounts here are below R$ 1.000
    expect(table.get_by_role("row").filter(has_text="nov/26")).to_contain_text(amount_pt)
    shot("fatura-recebida")

    # Upload earlier bills (two PDFs at once).
    earlier = [bill(customer.installations[0], month) for month in ("2026-09", "2026-10")]
    page.get_by_label("Enviar faturas anteriores (PDF, vários de uma vez)").set_input_files(
        [{"name": b.filename, "mimeType": "application/pdf", "buffer": b.pdf} for b in earlier])
    page.get_by_role("button", name="Enviar faturas", exact=True).click()
    expect(page.get_by_role("status", name="Resultado do envio")).to_contain_text("fatura de 2026-10 cadastrada")
    expect(table.get_by_role("row")).to_have_count(4)  # header + 3 months
    shot("faturas-enviadas")
    with page.expect_download() as download:
        table.get_by_role("row").filter(has_text="set/26").get_by_role("link", name="Baixar PDF").click()
    assert download.value.path().read_bytes()[:5] == b"%PDF-"

    # The detailed report with its charts.
    page.get_by_role("link", name="Relatório detalhado").click()
    expect(page.get_by_role("heading", name="Relatório detalhado")).to_be_visible()
    chart = page.get_by_role("img", name="Energia (kWh)")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar.s0")).to_have_count(12)  # grid consumption: the 2026 bill's 12-month history
    expect(page.get_by_role("img", name="Saldo de créditos (kWh)").locator("polyline")).to_have_count(1)
    expect(page.locator("#relatorio")).to_contain_text("Histórico")
    november = page.locator("#relatorio").get_by_role("row").filter(has_text="nov/26")
    expect(november).to_contain_text(amount_pt)
    expect(page.locator("#resumo-valor")).to_have_text(amount_pt)
    expect(page.locator("#alertas")).to_be_visible()
    expect(page.locator("#formula")).to_contain_text("Energia Elétrica")
    assert not re.search(r"\b\d+\.\d{2}\b", page.locator("#relatorio").inner_text())  # no 110.34 on screen
    shot("relatorio")
