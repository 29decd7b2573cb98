"""The review screen in Chromium: correct a bill kept back by a check, confirm a review item; screenshots kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from storage.engine import session_scope
from storage.mail_models import Invoice
from tests.web.conftest import PASSWORD, Web
from tests.web.review_bills import store_for_review

pytestmark = pytest.mark.browser


def test_correct_then_confirm_on_the_review_screen(page: Page, web: Web, output_path):
    ana = web.user("ana@solar.example.com")
    unit_id = web.unit(ana, 1)
    kept_back, _ = store_for_review(web.app, unit_id, cycle="2025-10", other_installation="3000000099")
    made_up, truth = store_for_review(web.app, unit_id, cycle="2026-11")
    page.set_default_timeout(15000)

    page.goto(f"{web.url}/entrar")
    page.get_by_label("E-mail").fill("ana@solar.example.com")
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.get_by_role("link", name="Revisar faturas").click()
    expect(page.get_by_role("heading", name="Revisar faturas")).to_be_visible()
    expect(page.locator("#revisar tbody tr")).to_have_count(2)
    page.screenshot(path=Path(output_path) / "revisar-lista.png", full_page=True)

    # Correct: the bill printing another installation.
    page.locator(f"tr[data-invoice='{kept_back}']").get_by_role("link", name="Revisar").click()
    expect(page.get_by_role("heading", name="Revisar fatura")).to_be_visible()
    expect(page.get_by_text("A instalação impressa na fatura não é a desta unidade.")).to_be_visible()
    installation = page.get_by_label("Nº da instalação")
    expect(installation).to_have_value("3000000099")
    page.get_by_role("button", name="Confirmar campos").click()  # as read: refused, it is another unit's number
    expect(page.get_by_text("não é a desta unidade (3000000001)")).to_be_visible()
    expect(installation).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=Path(output_path) / "revisar-erro.png", full_page=True)
    installation.fill("3000000001")
    page.get_by_label("Vencimento").fill("32/11/2025")
    page.get_by_role("button", name="Confirmar campos").click()
    expect(page.get_by_text("Vencimento inválido: use DD/MM/AAAA, ex.: 10/12/2026.")).to_be_visible()
    expect(page.get_by_label("Nº da instalação")).to_have_value("3000000001")  # kept while the rest is fixed
    page.get_by_label("Vencimento").fill("17/11/2025")
    page.get_by_role("button", name="Confirmar campos").click()
    expect(page.get_by_role("status")).to_have_text("Fatura de 10/2025 confirmada.")
    expect(page.locator("#revisar tbody tr")).to_have_count(1)

    # Confirm: the review item read generically, its page drawn beside the fields.
    page.get_by_role("link", name="Revisar", exact=True).click()
    image = page.get_by_role("img", name="Primeira página da fatura")
    expect(image).to_be_visible()
    page.wait_for_function("() => { const i = document.querySelector('.review-page img'); "
                           "return i.complete && i.naturalWidth > 0; }")
    assert image.evaluate("img => img.naturalWidth") > 500
    expect(page.locator("[data-source=amount_due]")).to_have_text("código de barras (linha digitável)")
    expect(page.get_by_label("Valor a pagar (R$)")).to_have_value(truth.amount_due.replace(".", ","))
    page.screenshot(path=Path(output_path) / "revisar-fatura.png", full_page=True)
    page.get_by_role("button", name="Confirmar campos").click()
    expect(page.get_by_role("status")).to_have_text("Fatura de 11/2026 confirmada.")
    expect(page.locator("#nada-a-revisar")).to_be_visible()

    with session_scope(web.app.engine) as session:
        for invoice_id in (kept_back, made_up):
            invoice = session.get(Invoice, invoice_id)
            assert invoice.status == "parsed" and invoice.reviewed_by == "ana@solar.example.com"
        assert session.get(Invoice, kept_back).due_date.isoformat() == "2025-11-17"
    page.goto(f"{web.url}/unidades/{unit_id}/relatorio")
    expect(page.locator("#relatorio tbody")).to_contain_text(truth.amount_due.replace(".", ","))
    page.screenshot(path=Path(output_path) / "revisar-relatorio.png", full_page=True)
