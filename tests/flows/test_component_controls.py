"""Control-level behaviours of the CEMIG intents on component-library markup (real Chromium, set_content).

Each page is the smallest markup that shows one trait of a React/Material-UI portal: an eye button
beside the password, a service card whose only control is "Acessar", a visually hidden checkbox behind a
styled label, terms that arrive after a spinner and must be scrolled, a form made of divs, an error alert
after confirming.
"""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import async_playwright

from flows.cemig import intents
from flows.cemig.controls import card_action, click, tick, tickable_checkbox
from flows.cemig.screens import Screens
from flows.cemig.vocabulary import pattern
from flows.errors import PortalChanged, PortalUnavailable
from tests.aio import run_async

pytestmark = pytest.mark.browser


def on_page(browser_settings, html: str, scenario):
    """Run `scenario(screens)` on a fresh page holding `html`; returns what it returned."""

    async def go():
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**browser_settings.launch_options())
            try:
                page = await browser.new_page()
                await page.set_content(html)
                return await scenario(Screens(page, timeout_s=4))
            finally:
                await browser.close()

    return run_async(go())


LOGIN = """
<div><label for=":r1:">CPF/CNPJ<span aria-hidden="true"> *</span></label><input id=":r1:" type="text"></div>
<div><label for=":r2:">Senha<span aria-hidden="true"> *</span></label><input id=":r2:" type="password">
  <button type="button" aria-label="Mostrar senha" onclick="this.dataset.pressed = 'yes'">o</button></div>
<a href="#" aria-label="Esqueci minha senha">Esqueceu sua senha?</a>
<button type="button">Entrar</button>
"""


def test_the_password_goes_into_the_password_input_not_the_show_password_button(browser_settings):
    async def scenario(screens: Screens):
        await intents.log_in(screens, "123.456.789-09", "s3cret-Pw")
        page = screens.page
        return (await page.locator("input[type=password]").input_value(),
                await page.locator("[id=':r1:']").input_value(),
                await page.get_by_role("button", name="Mostrar senha").get_attribute("data-pressed"))

    assert on_page(browser_settings, LOGIN, scenario) == ("s3cret-Pw", "123.456.789-09", None)


CARDS = """
<div class="grid">
  <div class="card"><div class="title">Segunda via</div><p>Baixe suas contas</p>
    <button onclick="done('2via')">Acessar</button></div>
  <div class="card"><div class="title">Conta digital</div><p>Receba a conta no seu e-mail</p>
    <div class="actions"><button onclick="done('conta')">Acessar</button></div></div>
  <div class="card"><div class="title">Parcelamento</div><button onclick="done('parc')">Acessar</button></div>
</div>
<script>function done(x) { document.body.dataset.opened = x; }</script>
"""


def test_a_card_titled_conta_digital_opens_through_its_only_button(browser_settings):
    async def scenario(screens: Screens):
        target = await card_action(screens, pattern("conta_digital"), step="t", purpose="open Conta Digital")
        await target.click()
        return await screens.page.locator("body").get_attribute("data-opened")

    assert on_page(browser_settings, CARDS, scenario) == "conta"


def test_two_cards_with_the_title_are_refused_not_guessed(browser_settings):
    twice = CARDS.replace("Parcelamento", "Conta Digital")

    async def scenario(screens: Screens):
        with pytest.raises(PortalChanged, match="refusing to guess"):
            await card_action(screens, pattern("conta_digital"), step="t", purpose="open Conta Digital")
        return await screens.page.locator("body").get_attribute("data-opened")

    assert on_page(browser_settings, twice, scenario) is None


HIDDEN_BOX = """
<label for="ok" style="display:flex;align-items:center">
  <span style="position:relative;display:inline-flex;padding:9px">
    <input id="ok" type="checkbox" style="position:absolute;opacity:0;width:0;height:0;margin:0">
    <span style="width:18px;height:18px;border:2px solid #555;display:inline-block"></span></span>
  <span>Concordo com os termos e condições</span></label>
"""


def test_a_visually_hidden_checkbox_is_ticked_through_its_label(browser_settings):
    async def scenario(screens: Screens):
        box, through_label = await tickable_checkbox(screens, screens.page.get_by_role("checkbox"), step="t",
                                                     purpose="accept the terms")
        await tick(screens, box, through_label=through_label, step="t")
        return through_label, await box.is_checked()

    assert on_page(browser_settings, HIDDEN_BOX, scenario) == (True, True)


TERMS = """
<button type="button" onclick="openTerms()">Quero aderir</button>
<div id="result"></div>
<script>
function openTerms() {
  const d = document.createElement('div');
  d.setAttribute('role', 'dialog'); d.setAttribute('aria-labelledby', 't');
  d.innerHTML = `<h2 id="t">Termo de adesão</h2>
    <div id="box" style="max-height:80px;overflow-y:auto"><span role="progressbar"></span></div>
    ${document.getElementById('tpl').innerHTML}
    <div id="msg"></div><button type="button" id="go" disabled>Confirmar</button>`;
  document.body.appendChild(d);
  const input = d.querySelector('input'); input.disabled = true;
  const go = d.querySelector('#go');
  input.addEventListener('change', () => { go.disabled = !input.checked; });
  go.addEventListener('click', () => {
    if (window.FAIL) {
      d.querySelector('#msg').innerHTML =
        '<div role="alert">Não foi possível concluir sua solicitação. Tente novamente mais tarde.</div>';
      return;
    }
    d.remove(); document.getElementById('result').innerHTML = '<div role="alert">Tudo certo! Adesão realizada.</div>';
  });
  setTimeout(() => {   // the text arrives after a spinner, and only reading it to the end enables the box
    const box = d.querySelector('#box');
    box.innerHTML = Array.from({length: 12}, (_, i) => `<p>Cláusula ${i + 1}.</p>`).join('');
    box.addEventListener('scroll', () => {
      if (box.scrollTop + box.clientHeight >= box.scrollHeight - 4) { input.disabled = false; }
    });
  }, 700);
}
</script>
<template id="tpl">""" + HIDDEN_BOX + "</template>"


def test_the_terms_are_scrolled_once_loaded_and_their_hidden_checkbox_ticked(browser_settings):
    submitted = []

    async def scenario(screens: Screens):
        text = await intents.accept_terms(screens, on_submit=lambda: submitted.append(1))
        return text, await screens.page.get_by_role("dialog").count()

    text, dialogs = on_page(browser_settings, TERMS, scenario)
    assert "Tudo certo" in text and dialogs == 0
    assert submitted == [1]


def test_an_error_alert_after_confirming_is_portal_unavailable(browser_settings):
    submitted = []

    async def scenario(screens: Screens):
        await screens.page.evaluate("window.FAIL = true")
        with pytest.raises(PortalUnavailable):
            await intents.accept_terms(screens, on_submit=lambda: submitted.append(1))
        return await screens.page.get_by_role("checkbox").is_checked()

    assert on_page(browser_settings, TERMS, scenario) is True
    assert submitted == [1]  # counted: a retry must not submit it a second time


DIV_FORM = """
<div class="paper">
  <div class="h5">Dados de acesso</div>
  <div><label for=":r4:">E-mail</label><input id=":r4:" type="email" value="old@example.com"></div>
  <div><label for=":r5:">Senha atual</label><input id=":r5:" type="password">
    <button type="button" aria-label="Mostrar senha">o</button></div>
  <div><button type="button">Voltar</button><button type="button" id="save">Salvar alterações</button></div>
  <div id="out"></div>
</div>
<script>
document.getElementById('save').addEventListener('click', () => {
  const ok = document.getElementById(':r5:').value === 'pw-123';
  document.getElementById('out').innerHTML = ok ? '<div role="alert">Dados atualizados com sucesso.</div>'
                                                : '<div role="alert">Senha atual incorreta.</div>';
});
</script>
"""


def test_a_form_made_of_divs_gets_the_current_password_in_its_own_field(browser_settings):
    async def scenario(screens: Screens):
        return await intents.set_access_email(screens, "uc-1@faturas.example.com", password="pw-123")

    before, confirmation = on_page(browser_settings, DIV_FORM, scenario)
    assert before == "old@example.com" and "atualizados com sucesso" in confirmation


COVERED_BY_MENU_BACKDROP = """
<button type="button" onclick="document.body.dataset.clicked = 'yes'">Salvar</button>
<div id="backdrop" style="position:fixed;inset:0;z-index:10" onclick="this.remove()"></div>
"""
COVERED_BY_NOTICE = """
<button type="button" onclick="document.body.dataset.clicked = 'yes'">Salvar</button>
<div id="notice" style="position:fixed;inset:0;z-index:10;background:#0006">
  <div style="background:#fff;margin:20% auto;width:300px"><p>Novidade: pague com Pix</p>
    <button type="button" onclick="document.body.dataset.closed = 'Sair'">Sair</button>
    <button type="button" onclick="document.getElementById('notice').remove()">Entendi</button></div></div>
"""


@pytest.mark.parametrize("html", [COVERED_BY_MENU_BACKDROP, COVERED_BY_NOTICE], ids=["backdrop", "notice"])
def test_a_click_on_a_covered_control_closes_the_covering_layer_and_clicks_again(browser_settings, html):
    async def scenario(screens: Screens):
        page = screens.page
        await click(screens, page.get_by_role("button", name="Salvar"), step="t")
        return (await page.locator("body").get_attribute("data-clicked"),
                await page.locator("body").get_attribute("data-closed"), screens.clicked)

    clicked, closed_by, names = on_page(browser_settings, html, scenario)
    assert clicked == "yes" and closed_by is None  # never "Sair", although it is a button of the layer
    assert names[-1] == "Salvar"


def test_a_link_whose_page_answers_late_is_clicked_once_and_its_page_still_arrives(browser_settings):
    # The click is done at once, but the page it asks for takes longer than the first try's deadline
    # (COVER_WAIT_S): that is a slow server, not a covering layer, so no second click and no error.
    from flows.cemig.overlays import COVER_WAIT_S

    async def scenario(screens: Screens):
        page = screens.page
        requests: list[str] = []

        async def slow(route):
            requests.append(route.request.url)
            await asyncio.sleep(COVER_WAIT_S + 1.5)
            await route.fulfill(status=200, content_type="text/html", body="<h1>Dados de acesso</h1>")

        await page.route("**/dados-de-acesso", slow)
        await page.goto("http://portal.test/inicio")  # answered by the route below: a real navigation
        name = await click(screens, page.get_by_role("link", name="Editar dados de acesso"), step="access_data")
        await page.get_by_role("heading", name="Dados de acesso").wait_for(timeout=8000)
        return name, screens.clicked, requests

    async def home(route):
        await route.fulfill(status=200, content_type="text/html",
                            body='<a href="/dados-de-acesso">Editar dados de acesso</a>')

    async def go():
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**browser_settings.launch_options())
            try:
                page = await browser.new_page()
                await page.route("**/inicio", home)
                return await scenario(Screens(page, timeout_s=6))
            finally:
                await browser.close()

    name, clicked, requests = run_async(go())
    assert name == "Editar dados de acesso"
    assert clicked == ["Editar dados de acesso"]
    assert requests == ["http://portal.test/dados-de-acesso"]
