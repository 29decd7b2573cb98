"""The portal over plain HTTP: login rules, challenges, solver, faults, expiry, installations, Conta Digital."""

import time

import httpx
import pytest

from simulator.portal.sessions import COOKIE_NAME

INVALID = "Usuário ou senha inválidos."


def _solve(simulator, client: httpx.Client) -> str:
    """Walk the 2Captcha protocol the way a solver adapter would; returns the token."""
    params = {"key": simulator.solver_key, "method": "userrecaptcha", "googlekey": simulator.site_key,
              "pageurl": simulator.login_url}
    submitted = client.get("/solver/in.php", params=params)
    assert submitted.text.startswith("OK|")
    task = submitted.text.split("|", 1)[1]
    first = client.get("/solver/res.php", params={"key": simulator.solver_key, "action": "get", "id": task})
    assert first.text == "CAPCHA_NOT_READY"
    second = client.get("/solver/res.php", params={"key": simulator.solver_key, "action": "get", "id": task})
    assert second.text.startswith("OK|")
    return second.text.split("|", 1)[1]


@pytest.mark.parametrize("identifier", ["123.456.789-09", "12345678909", "maria.souza@example.com",
                                        "MARIA.SOUZA@example.com"])
def test_login_accepts_cpf_with_or_without_mask_and_email(simulator, identifier):
    customer = simulator.add_customer()
    with simulator.http() as client:
        response = simulator.login(client, identifier, customer.password)
        assert response.status_code == 303
        assert response.headers["location"] == "/portal/home"  # the new portal's home (legacy: /Home)
        home = client.get("/portal/home")
    assert home.status_code == 200
    assert "Maria Aparecida Souza" in home.text
    assert "3000055479" in home.text


def test_login_accepts_cnpj_with_mask_on_the_new_form_fields(simulator):
    customer = simulator.add_customer(name="Padaria Pão Quente Ltda", document="11.222.333/0001-81", email=None)
    with simulator.http() as client:
        response = simulator.login(client, "11.222.333/0001-81", customer.password, variant_field="userId")
    assert response.status_code == 303


def test_session_cookie_is_signed_and_httponly(simulator):
    customer = simulator.add_customer()
    with simulator.http() as client:
        response = simulator.login(client, "12345678909", customer.password)
        header = response.headers["set-cookie"]
        assert "httponly" in header.lower()
        session_id = client.cookies[COOKIE_NAME].rsplit(".", 1)[0]
        client.cookies.set(COOKIE_NAME, session_id + ".forged")
        assert client.get("/Home").headers["location"] == "/Login"


def test_wrong_password_and_unknown_login_say_the_same(simulator):
    simulator.add_customer()
    with simulator.http() as client:
        wrong = simulator.login(client, "12345678909", "nope")
        unknown = simulator.login(client, "98765432100", "nope")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert INVALID in response.text
        assert 'role="alert"' in response.text
    assert simulator.admin.customer("12345678909")["failed_logins"] == 1


def test_lockout_after_the_customers_limit_even_with_the_right_password(simulator):
    customer = simulator.add_customer(max_failed_logins=3)
    with simulator.http() as client:
        texts = [simulator.login(client, "12345678909", "nope").text for _ in range(3)]
        assert INVALID in texts[0] and INVALID in texts[1]
        assert "Acesso bloqueado" in texts[2]
        right = simulator.login(client, "12345678909", customer.password)
        assert "Acesso bloqueado" in right.text
        assert simulator.admin.customer(customer.id)["locked"] is True
        simulator.admin.update_customer(customer.id, locked=False)
        assert simulator.login(client, "12345678909", customer.password).status_code == 303
    kinds = [e["kind"] for e in simulator.admin.report()["events"]]
    assert "account_locked" in kinds


def test_default_lockout_is_five(simulator):
    simulator.add_customer()
    with simulator.http() as client:
        texts = [simulator.login(client, "12345678909", "nope").text for _ in range(5)]
    assert INVALID in texts[3]
    assert "Acesso bloqueado" in texts[4]


def test_checkbox_captcha_needs_a_single_use_token(simulator):
    customer = simulator.add_customer(scenario={"captcha": "checkbox"})
    with simulator.http() as client:
        missing = simulator.login(client, "12345678909", customer.password)
        assert "Confirme que você não é um robô." in missing.text
        assert 'id="g-recaptcha-response"' in missing.text  # the widget shows once the login is known
        bogus = simulator.login(client, "12345678909", customer.password, captcha_token="03Abogus")
        assert "Falha na verificação do reCAPTCHA" in bogus.text
        token = client.post("/recaptcha/api2/userverify", json={}).json()["token"]
        assert simulator.login(client, "12345678909", customer.password, captcha_token=token).status_code == 303
        client.cookies.clear()
        reused = simulator.login(client, "12345678909", customer.password, captcha_token=token)
        assert "Falha na verificação do reCAPTCHA" in reused.text


def test_captcha_token_expires(simulator):
    from simulator.portal.captcha import Captcha

    captcha = Captcha(simulator.store, ttl=60)
    token = captcha.issue("checkbox", now=1000.0)
    assert not captcha.verify(token, "checkbox", now=1061.0)
    fresh = captcha.issue("checkbox", now=1000.0)
    assert captcha.verify(fresh, "checkbox", now=1059.0)


def test_site_checkbox_captcha_shows_the_widget_on_the_login_page(simulator):
    simulator.admin.set_scenario({"captcha": "checkbox"})
    with simulator.http() as client:
        page = client.get("/Login")
        anchor = client.get(f"/recaptcha/api2/anchor?ar=1&k={simulator.site_key}&hl=pt-BR&size=normal")
    # As Google serves it: the site key on the page, the checkbox in the anchor iframe, the response textarea.
    assert f'data-sitekey="{simulator.site_key}"' in page.text and 'title="reCAPTCHA"' in page.text
    assert 'name="g-recaptcha-response"' in page.text and "Não sou um robô" not in page.text
    assert anchor.status_code == 200 and "Não sou um robô" in anchor.text and 'role="checkbox"' in anchor.text


def test_always_fail_never_yields_a_valid_token(simulator):
    customer = simulator.add_customer()
    simulator.admin.set_scenario({"captcha": "always-fail"})
    with simulator.http() as client:
        checkbox = client.post("/recaptcha/api2/userverify", json={})
        assert checkbox.status_code == 403 and checkbox.json()["success"] is False
        params = {"key": simulator.solver_key, "method": "userrecaptcha", "googlekey": simulator.site_key,
                  "pageurl": simulator.login_url}
        task = client.get("/solver/in.php", params=params).text.split("|")[1]
        query = {"key": simulator.solver_key, "action": "get", "id": task}
        assert client.get("/solver/res.php", params=query).text == "CAPCHA_NOT_READY"
        assert client.get("/solver/res.php", params=query).text == "ERROR_CAPTCHA_UNSOLVABLE"
        # Even a token issued earlier is refused while the mode is always-fail.
        token = simulator.store and __import__("simulator.portal.captcha", fromlist=["Captcha"]).Captcha(
            simulator.store).issue("solver")
        refused = simulator.login(client, "12345678909", customer.password, captcha_token=token)
    assert "Falha na verificação do reCAPTCHA" in refused.text


def test_solver_tokens_are_accepted_by_the_login(simulator):
    customer = simulator.add_customer()
    simulator.admin.set_scenario({"captcha": "checkbox"})
    with simulator.http() as client:
        token = _solve(simulator, client)
        assert simulator.login(client, "12345678909", customer.password, captcha_token=token).status_code == 303


def test_solver_json_mode_and_errors(simulator):
    with simulator.http() as client:
        good = {"key": simulator.solver_key, "method": "userrecaptcha", "googlekey": simulator.site_key,
                "pageurl": simulator.login_url, "json": "1"}
        submitted = client.post("/solver/in.php", data=good).json()
        assert submitted["status"] == 1
        polled = client.get("/solver/res.php", params={"key": simulator.solver_key, "action": "get",
                                                       "id": submitted["request"], "json": "1"}).json()
        assert polled == {"status": 0, "request": "CAPCHA_NOT_READY"}
        assert client.get("/solver/in.php", params={**good, "key": "wrong"}).json() == {
            "status": 0, "request": "ERROR_WRONG_USER_KEY"}
        assert client.get("/solver/in.php", params={**good, "json": "0", "googlekey": "x"}).text == "ERROR_GOOGLEKEY"
        assert client.get("/solver/res.php", params={"key": simulator.solver_key, "action": "get",
                                                     "id": "123"}).text == "ERROR_WRONG_CAPTCHA_ID"
        assert client.get("/solver/res.php", params={"key": "wrong", "action": "get",
                                                     "id": "123"}).text == "ERROR_WRONG_USER_KEY"


@pytest.mark.parametrize(("times", "statuses"), [(1, [503, 200, 200]), (2, [503, 503, 200]), (None, [503] * 3)])
def test_fault_once_n_times_or_always(simulator, times, statuses):
    customer = simulator.add_customer(scenario={"faults": [{"step": "home", "status": 503, "times": times}]})
    with simulator.http() as client:
        simulator.login(client, "12345678909", customer.password)
        seen = [client.get("/Home") for _ in statuses]
    assert [r.status_code for r in seen] == statuses
    assert "Serviço temporariamente indisponível" in seen[0].text


def test_fault_500_on_the_login_step(simulator):
    customer = simulator.add_customer(scenario={"faults": [{"step": "login", "status": 500}]})
    with simulator.http() as client:
        failed = simulator.login(client, "12345678909", customer.password)
        assert failed.status_code == 500
        assert "Ocorreu um erro inesperado" in failed.text
        assert simulator.login(client, "12345678909", customer.password).status_code == 303


def test_slow_step(simulator):
    customer = simulator.add_customer(scenario={"delay": {"seconds": 0.6, "step": "conta_digital"}})
    with simulator.http() as client:
        simulator.login(client, "12345678909", customer.password)
        started = time.monotonic()
        client.get("/Home")
        fast = time.monotonic() - started
        started = time.monotonic()
        assert client.get("/ContaDigital").status_code == 200
        slow = time.monotonic() - started
    assert slow >= 0.6
    assert fast < 0.6


def test_session_expires_after_n_requests_once(simulator):
    customer = simulator.add_customer(scenario={"session_expiry": {"after_requests": 2}})
    with simulator.http() as client:
        simulator.login(client, "12345678909", customer.password)
        assert client.get("/Home").status_code == 200
        assert client.get("/DadosAcesso").status_code == 200
        expired = client.get("/ContaDigital")
        assert expired.status_code == 303
        assert expired.headers["location"] == "/Login?sessao=expirada"
        page = client.get("/Login?sessao=expirada")
        assert "Sua sessão expirou. Faça login novamente." in page.text
        simulator.login(client, "12345678909", customer.password)
        assert [client.get("/Home").status_code for _ in range(4)] == [200] * 4


def test_admin_api_requires_the_token(simulator):
    with httpx.Client(base_url=simulator.url) as client:
        assert client.get("/_admin/report").status_code == 401
        assert client.get("/_admin/report", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_admin_api_validates_scenarios_and_references(simulator):
    from simulator.portal.client import AdminError

    simulator.add_customer()
    with pytest.raises(AdminError) as bad_step:
        simulator.admin.set_scenario({"faults": [{"step": "nowhere", "status": 503}]}, customer="12345678909")
    assert bad_step.value.status == 422
    with pytest.raises(AdminError) as unknown:
        simulator.admin.customer("00000000000")
    assert unknown.value.status == 404
    with pytest.raises(AdminError) as duplicate:
        simulator.admin.add_installation("12345678909", "3000055479")
    assert duplicate.value.status == 409
    assert simulator.admin.scenario("12345678909") == {}


def test_installation_switch_by_number_or_uc_code(simulator):
    customer = simulator.add_customer(installations=("3000055479", "3000099999"))
    uc = simulator.admin.installation("3000099999")["uc_code"]
    with simulator.http() as client:
        simulator.login(client, "12345678909", customer.password)
        assert "Instalação 3000055479" in client.get("/Home").text
        assert client.post("/Instalacoes/Selecionar", data={"NumeroInstalacao": uc}).status_code == 303
        assert "Instalação 3000099999" in client.get("/Home").text
        missing = client.post("/Instalacoes/Selecionar", data={"NumeroInstalacao": "3999999999"})
    assert missing.status_code == 404
    assert "Instalação não encontrada para este usuário." in missing.text


def test_another_logins_installation_cannot_be_selected(simulator):
    customer = simulator.add_customer()
    simulator.add_customer(name="João", document="987.654.321-00", email="joao@example.com",
                           installations=("3000011111",))
    with simulator.http() as client:
        simulator.login(client, "12345678909", customer.password)
        assert client.post("/Instalacoes/Selecionar", data={"NumeroInstalacao": "3000011111"}).status_code == 404


def test_access_email_validation_uniqueness_and_change(simulator):
    customer = simulator.add_customer()
    simulator.add_customer(name="João", document="987.654.321-00", email="joao@example.com", installations=())
    with simulator.http() as client:
        simulator.login(client, "12345678909", customer.password)
        invalid = client.post("/DadosAcesso", data={"email": "not-an-email"})
        assert invalid.status_code == 422 and "Informe um e-mail válido." in invalid.text
        taken = client.post("/DadosAcesso", data={"Email": "joao@example.com"})
        assert "Este e-mail já está em uso por outro usuário." in taken.text
        saved = client.post("/DadosAcesso", data={"email": "uc-3000055479-k7q2@faturas.example.com"})
        assert "Dados de acesso atualizados com sucesso." in saved.text
    assert simulator.admin.customer(customer.id)["email"] == "uc-3000055479-k7q2@faturas.example.com"
    changes = [e for e in simulator.admin.report()["events"] if e["kind"] == "email_changed"]
    assert changes[-1]["old"] == "maria.souza@example.com"


def test_adhesion_needs_the_terms_and_counts_every_submission(simulator):
    customer = simulator.add_customer()
    with simulator.http() as client:
        simulator.login(client, "12345678909", customer.password)
        refused = client.post("/ContaDigital/Adesao", data={})
        assert refused.status_code == 422
        assert "Li e aceito o termo de adesão" in refused.text
        assert "Adesão realizada com sucesso" in client.post("/ContaDigital/Adesao", data={"aceite": "sim"}).text
        again = client.post("/ContaDigital/Adesao", data={"aceite": "sim"})
        assert "Esta instalação já está cadastrada na Conta Digital" in again.text
    inst = simulator.admin.installation("3000055479")
    assert inst["enrolled"] is True and inst["enrolled_at"]
    assert inst["adhesion_submissions"] == 2


def test_logout_ends_the_session(simulator):
    customer = simulator.add_customer()
    with simulator.http() as client:
        simulator.login(client, "12345678909", customer.password)
        cookie = client.cookies[COOKIE_NAME]
        out = client.post("/Logout")
        assert out.headers["location"] == "/Login?saiu=1"
        client.cookies.set(COOKIE_NAME, cookie)
        assert client.get("/Home").status_code == 303


def test_profiles_over_the_admin_api(simulator):
    simulator.add_customer()
    simulator.admin.add_installation("12345678909", "3000077777", enrolled=True, pdf_password="12345")
    profiles = simulator.admin.profiles()
    assert [p["installation"] for p in profiles] == ["3000077777"]
    assert profiles[0]["email"] == "maria.souza@example.com"
    assert profiles[0]["seed"] == 3000077777


def test_legacy_and_new_markup_differ_but_say_the_same(simulator):
    customer = simulator.add_customer(installations=("3000055479", "3000099999"))
    pages = {}
    for variant in ("new", "legacy"):
        simulator.admin.set_scenario({"variant": variant})
        with simulator.http() as client:
            login = client.get("/Login").text
            simulator.login(client, "12345678909", customer.password,
                            variant_field="Acesso" if variant == "legacy" else "userId")
            pages[variant] = (login, client.get("/Home").text, client.get("/Instalacoes").text)
    legacy_ids = ['id="acesso"', 'id="senha"', 'id="submitForm"', 'id="dropdownSelecionarInstalacao"',
                  'id="btnSelecionarOutraIN"', 'id="limparInst"', 'id="dropdownUsuarioMenu"']
    legacy_html = "".join(pages["legacy"])
    new_html = "".join(pages["new"])
    assert 'href="/portal/home"' in new_html and 'href="/portal/home"' not in legacy_html
    for marker in legacy_ids:
        assert marker in legacy_html
        assert marker not in new_html
    for text in ("Entrar", "CPF, CNPJ ou e-mail", "Minhas instalações", "Trocar", "Conta Digital",
                 "Editar dados de acesso", "Buscar por instalação", "Pesquisar"):
        assert text in legacy_html and text in new_html


def test_fault_after_the_change_was_saved(simulator):
    customer = simulator.add_customer(scenario={"faults": [
        {"step": "adhesion_confirm", "status": 500, "when": "after"},
        {"step": "access_data_save", "status": 503, "when": "after"}]})
    with simulator.http() as client:
        simulator.login(client, "12345678909", customer.password)
        saved = client.post("/DadosAcesso", data={"email": "novo@example.com"})
        assert saved.status_code == 503
        assert simulator.admin.customer(customer.id)["email"] == "novo@example.com"
        failed = client.post("/ContaDigital/Adesao", data={"aceite": "sim"})
        assert failed.status_code == 500
        assert simulator.admin.installation("3000055479")["enrolled"] is True
        retry = client.get("/ContaDigital")
    assert "Esta instalação já está cadastrada na Conta Digital" in retry.text
    assert simulator.admin.installation("3000055479")["adhesion_submissions"] == 1


def test_slow_everywhere_when_no_step_is_named(simulator):
    customer = simulator.add_customer()
    with simulator.http() as client:
        simulator.login(client, "12345678909", customer.password)
        simulator.admin.set_scenario({"delay": {"seconds": 0.3}}, customer=customer.id)
        for path in ("/Home", "/DadosAcesso"):
            started = time.monotonic()
            assert client.get(path).status_code == 200
            assert time.monotonic() - started >= 0.3


def test_the_login_email_follows_the_access_email(simulator):
    # "Editar dados de acesso" edits the portal login account (reference §1.2: user.email), so the old
    # address stops working as a login identifier; the CPF keeps working.
    customer = simulator.add_customer()
    with simulator.http() as client:
        simulator.login(client, "12345678909", customer.password)
        client.post("/DadosAcesso", data={"email": "novo@example.com"})
    with simulator.http() as client:
        assert INVALID in simulator.login(client, "maria.souza@example.com", customer.password).text
        assert simulator.login(client, "novo@example.com", customer.password).status_code == 303
