"""The portal in Chromium, by visible pt-BR texts and roles only (what the onboarding bot will use)."""

import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

INBOX = "uc-3000055479-k7q2@faturas.example.com"


def accept_cookies(page: Page) -> None:
    page.get_by_role("button", name="Aceitar cookies").click()
    expect(page.get_by_role("region", name="Aviso de cookies")).to_be_hidden()


def log_in(page: Page, simulator, identifier: str, password: str) -> None:
    page.goto(simulator.login_url)
    if page.get_by_role("button", name="Aceitar cookies").count():
        accept_cookies(page)
    page.get_by_label("CPF, CNPJ ou e-mail", exact=True).fill(identifier)
    page.get_by_label("Senha", exact=True).fill(password)
    page.get_by_role("button", name="Entrar").click()


@pytest.mark.parametrize("variant", ["new", "legacy"])
def test_the_whole_manual_process(simulator, page: Page, variant):
    simulator.admin.set_scenario({"variant": variant, "captcha": "checkbox", "post_login_modal": True})
    customer = simulator.add_customer()

    page.goto(simulator.login_url)
    accept_cookies(page)
    page.get_by_label("CPF, CNPJ ou e-mail", exact=True).fill("123.456.789-09")
    page.get_by_label("Senha", exact=True).fill(customer.password)
    # reCAPTCHA v2 as Google serves it: the checkbox lives in the anchor iframe.
    page.frame_locator("iframe[title='reCAPTCHA']").get_by_role("checkbox", name="Não sou um robô").check()
    # The reCAPTCHA contract: the token lands in the hidden g-recaptcha-response textarea.
    expect(page.locator("textarea[name='g-recaptcha-response']")).to_have_value(re.compile(r"^03A"))
    page.get_by_role("button", name="Entrar").click()

    dialog = page.get_by_role("dialog", name="Atualize seus dados")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Agora não").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Instalação 3000055479")).to_be_visible()

    page.get_by_role("button", name=customer.name).click()
    expect(page.get_by_text("Número do cliente: 7000055479")).to_be_visible()
    for item in ("Editar dados de contrato", "Trocar senha"):
        expect(page.get_by_role("link", name=item)).to_be_visible()
    expect(page.get_by_role("button", name="Sair")).to_be_visible()
    page.get_by_role("link", name="Editar dados de acesso").click()
    email = page.get_by_label("E-mail", exact=True)
    expect(email).to_have_value(customer.email)
    email.fill(INBOX)
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_text("Dados de acesso atualizados com sucesso.")).to_be_visible()
    page.get_by_role("link", name="Voltar para o início").click()

    conta_digital = page.get_by_role("link", name="Conta Digital")
    expect(conta_digital).not_to_be_in_viewport()  # the services bar is below the fold
    conta_digital.scroll_into_view_if_needed()
    expect(conta_digital).to_be_in_viewport()
    conta_digital.click()
    expect(page.get_by_role("heading", name="Conta Digital", exact=True)).to_be_visible()
    expect(page.get_by_text("3000055479", exact=True)).to_be_visible()
    page.get_by_role("button", name="Aderir à Conta Digital").click()
    expect(page.get_by_role("heading", name="Termo de adesão")).to_be_visible()
    confirm = page.get_by_role("button", name="Confirmar adesão")
    expect(confirm).to_be_disabled()
    page.get_by_role("checkbox", name="Li e aceito o termo de adesão").check()
    confirm.click()
    expect(page.get_by_role("heading", name="Adesão realizada com sucesso")).to_be_visible()
    expect(page.get_by_text(INBOX)).to_be_visible()

    report = simulator.admin.report()
    (state,) = report["customers"]
    assert state["email"] == INBOX
    (installation,) = state["installations"]
    assert installation["enrolled"] is True
    assert installation["enrolled_at"]
    assert installation["adhesion_submissions"] == 1
    kinds = [e["kind"] for e in report["events"]]
    assert kinds.index("email_changed") < kinds.index("enrolled")
    assert simulator.store.enrolled_profiles()[0].email == INBOX


def test_cookie_banner_intercepts_clicks_until_a_choice(simulator, page: Page):
    page.goto(simulator.login_url)
    expect(page.locator("#onetrust-accept-btn-handler")).to_have_text("Aceitar cookies")
    expect(page.locator("#onetrust-reject-all-handler")).to_have_text("Rejeitar cookies")
    with pytest.raises(PlaywrightError, match="intercepts pointer events"):
        page.get_by_role("button", name="Entrar").click(timeout=1500)
    page.get_by_role("button", name="Rejeitar cookies").click()
    expect(page.get_by_role("region", name="Aviso de cookies")).to_be_hidden()
    page.reload()
    expect(page.get_by_role("button", name="Aceitar cookies")).to_have_count(0)  # the choice is remembered
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("alert")).to_have_text("Informe o CPF, CNPJ ou e-mail e a senha.")


def test_always_fail_captcha_in_the_browser(simulator, page: Page):
    simulator.admin.set_scenario({"captcha": "always-fail"})
    customer = simulator.add_customer()
    page.goto(simulator.login_url)
    accept_cookies(page)
    anchor = page.frame_locator("iframe[title='reCAPTCHA']")
    box = anchor.get_by_role("checkbox", name="Não sou um robô")
    box.click()  # not check(): the widget unticks itself when the check fails, so a check() may see no change
    expect(anchor.get_by_text("Falha na verificação. Tente novamente.")).to_be_visible()
    expect(box).not_to_be_checked()
    page.get_by_label("CPF, CNPJ ou e-mail", exact=True).fill("12345678909")
    page.get_by_label("Senha", exact=True).fill(customer.password)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("alert")).to_have_text("Confirme que você não é um robô.")
    # The page masked the bare CPF when the field lost focus, and the form kept it.
    expect(page.get_by_label("CPF, CNPJ ou e-mail", exact=True)).to_have_value("123.456.789-09")


def test_wrong_password_and_lockout_messages(simulator, page: Page):
    simulator.admin.set_scenario({"variant": "legacy"})
    simulator.add_customer(max_failed_logins=2)
    log_in(page, simulator, "123.456.789-09", "errada")
    expect(page.locator("#spnAlertasGerais")).to_have_text("Usuário ou senha inválidos.")
    log_in(page, simulator, "123.456.789-09", "errada")
    expect(page.get_by_role("alert")).to_contain_text("Acesso bloqueado")


def test_post_login_modal_blocks_the_page_until_closed(simulator, page: Page):
    customer = simulator.add_customer(scenario={"post_login_modal": True})
    log_in(page, simulator, "12345678909", customer.password)
    expect(page.get_by_role("dialog", name="Atualize seus dados")).to_be_visible()
    with pytest.raises(PlaywrightError, match="intercepts pointer events"):
        page.get_by_role("button", name=customer.name).click(timeout=1500)
    page.get_by_role("button", name="Fechar").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("dialog")).to_have_count(0)  # not again in the same session
    page.get_by_role("button", name=customer.name).click()
    expect(page.get_by_role("link", name="Editar dados de acesso")).to_be_visible()


@pytest.mark.parametrize("variant", ["new", "legacy"])
def test_several_installations_and_clients_with_trocar(simulator, page: Page, variant):
    customer = simulator.add_customer(installations=("3000055479", "3000099999"), scenario={"variant": variant})
    simulator.admin.add_installation(customer.id, "3000088888", holder_name="Padaria Pão Quente Ltda",
                                     holder_document="11.222.333/0001-81")
    uc = simulator.admin.installation("3000099999")["uc_code"]
    log_in(page, simulator, "12345678909", customer.password)
    expect(page.get_by_text("Instalação 3000055479")).to_be_visible()
    expect(page.get_by_role("link", name="Minhas instalações")).to_be_visible()

    page.get_by_role("link", name="Trocar", exact=True).click()
    page.get_by_label("Cliente").select_option(label="11.222.333/0001-81 - Padaria Pão Quente Ltda")
    expect(page.get_by_role("button", name="Selecionar instalação 3000055479")).to_have_count(0)
    page.get_by_role("button", name="Selecionar instalação 3000088888").click()
    expect(page.get_by_text("Instalação 3000088888")).to_be_visible()

    page.get_by_role("link", name="Trocar", exact=True).click()
    page.get_by_label("Buscar por instalação").fill(uc)
    page.get_by_role("button", name="Pesquisar").click()
    expect(page.get_by_text("Instalação 3000099999")).to_be_visible()

    page.get_by_role("link", name="Trocar", exact=True).click()
    page.get_by_label("Buscar por instalação").fill("3000011111")
    page.get_by_role("button", name="Pesquisar").click()
    expect(page.get_by_role("alert")).to_have_text("Instalação não encontrada para este usuário.")


def test_single_installation_has_no_trocar(simulator, page: Page):
    customer = simulator.add_customer()
    log_in(page, simulator, "12345678909", customer.password)
    expect(page.get_by_text("Instalação 3000055479")).to_be_visible()
    expect(page.get_by_role("link", name="Trocar", exact=True)).to_have_count(0)


def test_already_enrolled_page_and_cancel(simulator, page: Page):
    customer = simulator.add_customer(installations=())
    simulator.admin.add_installation(customer.id, "3000055479", enrolled=True)
    log_in(page, simulator, "maria.souza@example.com", customer.password)
    page.get_by_role("link", name="Conta Digital").click()
    expect(page.get_by_text("Esta instalação já está cadastrada na Conta Digital.")).to_be_visible()
    expect(page.get_by_text(customer.email)).to_be_visible()
    expect(page.get_by_role("button", name="Aderir à Conta Digital")).to_have_count(0)
    page.get_by_role("button", name="Cancelar adesão").click()
    expect(page.get_by_text("Adesão à Conta Digital cancelada.")).to_be_visible()
    assert simulator.admin.installation("3000055479")["enrolled"] is False
    assert "adhesion_cancelled" in [e["kind"] for e in simulator.admin.report()["events"]]
    page.get_by_role("link", name="Voltar para o início").click()
    page.get_by_role("link", name="Conta Digital").click()
    expect(page.get_by_role("button", name="Aderir à Conta Digital")).to_be_visible()


def test_session_expires_mid_flow(simulator, page: Page):
    customer = simulator.add_customer(scenario={"session_expiry": {"step": "adhesion_terms"}})
    log_in(page, simulator, "12345678909", customer.password)
    page.get_by_role("link", name="Conta Digital").click()
    page.get_by_role("button", name="Aderir à Conta Digital").click()
    expect(page.get_by_role("alert")).to_have_text("Sua sessão expirou. Faça login novamente.")
    expect(page.get_by_role("button", name="Entrar")).to_be_visible()
    log_in(page, simulator, "12345678909", customer.password)
    page.get_by_role("link", name="Conta Digital").click()
    page.get_by_role("button", name="Aderir à Conta Digital").click()
    expect(page.get_by_role("heading", name="Termo de adesão")).to_be_visible()


def test_unavailable_step_once_then_back(simulator, page: Page):
    customer = simulator.add_customer(scenario={"faults": [{"step": "conta_digital", "status": 503, "times": 1}]})
    log_in(page, simulator, "12345678909", customer.password)
    page.get_by_role("link", name="Conta Digital").click()
    expect(page.get_by_role("heading", name="Serviço temporariamente indisponível")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Conta Digital", exact=True)).to_be_visible()


def test_invalid_email_is_refused_on_the_page(simulator, page: Page):
    customer = simulator.add_customer()
    log_in(page, simulator, "12345678909", customer.password)
    page.get_by_role("button", name=customer.name).click()
    page.get_by_role("link", name="Editar dados de acesso").click()
    page.get_by_label("E-mail", exact=True).fill("maria@@example")
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_role("alert")).to_have_text("Informe um e-mail válido.")
    assert simulator.admin.customer(customer.id)["email"] == customer.email


def test_sair_logs_out(simulator, page: Page):
    customer = simulator.add_customer()
    log_in(page, simulator, "12345678909", customer.password)
    page.get_by_role("button", name=customer.name).click()
    page.get_by_role("button", name="Sair").click()
    expect(page.get_by_text("Você saiu da Agência Virtual.")).to_be_visible()
    page.goto(f"{simulator.url}/Home")
    expect(page.get_by_role("button", name="Entrar")).to_be_visible()
