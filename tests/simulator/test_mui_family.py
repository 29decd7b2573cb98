"""The Material-UI-like family (variant ``mui``) walked in Chromium the way a person reads it.

It checks the family itself (the bot's own runs are in tests/flows/test_families.py): the journey can be
completed by what the screen shows, and one confirmation is one submission in the shared store.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.simulator.mui_pages import log_in

pytestmark = pytest.mark.browser

INBOX = "uc-3000055479-mui@faturas.example.com"


def test_a_person_enrols_through_the_mui_family(simulator, page: Page):
    simulator.admin.set_scenario({"variant": "mui"})
    customer = simulator.add_customer(scenario={"variant": "mui", "post_login_modal": True, "reauth": "dialog"})
    log_in(page, simulator, "123.456.789-09", customer.password)

    news = page.get_by_role("dialog", name=re.compile("Novidade"))
    expect(news).to_be_visible()
    news.get_by_role("button", name="fechar").click()
    expect(news).to_be_hidden()

    page.get_by_role("button", name=re.compile("MARIA")).click()
    expect(page.get_by_text("Número do cliente: 7000055479")).to_be_visible()
    page.get_by_role("menuitem", name="Editar dados de acesso").click()
    page.get_by_role("textbox", name="E-mail").fill(INBOX)
    page.get_by_role("button", name="Salvar alterações").click()
    identity = page.get_by_role("dialog", name="Confirmação de segurança")
    identity.locator("input[type=password]").fill(customer.password)
    identity.get_by_role("button", name="Continuar").click()
    expect(page.get_by_role("alert").filter(has_text="Dados atualizados com sucesso.")).to_be_visible()

    page.get_by_role("button", name="Início").click()
    card = page.locator(".MuiCard-root").filter(has=page.get_by_text("Conta digital", exact=True))
    card.get_by_role("button", name="Acessar").click()
    page.get_by_role("button", name="Quero aderir").click()
    terms = page.get_by_role("dialog", name="Termo de adesão")
    box = terms.get_by_role("checkbox")
    expect(terms.get_by_text(re.compile("^8\\. "))).to_be_attached()
    expect(box).to_be_disabled()
    terms.locator(".terms-box").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    expect(box).to_be_enabled()
    terms.get_by_text("Concordo com os termos e condições").click()
    expect(box).to_be_checked()
    terms.get_by_role("button", name="Confirmar").click()
    expect(page.get_by_role("alert").filter(has_text="agora recebe a conta por e-mail")).to_be_visible()

    page.reload()
    expect(page.get_by_role("button", name="Cancelar adesão")).to_be_visible()
    expect(page.get_by_text("Suas contas são enviadas para u***@faturas.example.com.")).to_be_visible()
    (state,) = [c for c in simulator.admin.report()["customers"] if c["id"] == customer.id]
    assert state["email"] == INBOX
    assert [(i["enrolled"], i["adhesion_submissions"]) for i in state["installations"]] == [(True, 1)]


def test_an_expired_session_and_an_outage_show_on_the_mui_family(simulator, page: Page):
    simulator.admin.set_scenario({"variant": "mui"})
    customer = simulator.add_customer(scenario={
        "variant": "mui", "session_expiry": {"step": "installations"},
        "faults": [{"step": "conta_digital", "status": 503, "times": 1}]})
    log_in(page, simulator, "123.456.789-09", customer.password)
    page.goto(simulator.url + "/app/servicos/conta-digital")
    expect(page.get_by_role("alert")).to_have_text(re.compile("Não foi possível carregar"))
    page.get_by_role("button", name="Tentar novamente").click()
    expect(page.get_by_role("button", name="Quero aderir")).to_be_visible()

    page.get_by_role("button", name="Minhas instalações").click()
    expect(page).to_have_url(re.compile(r"/Login\?sessao=expirada"))
    expect(page.get_by_role("alert")).to_have_text("Sua sessão expirou. Faça login novamente.")
