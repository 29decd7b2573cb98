"""The simulator's image captcha over HTTP: the image served, the answer checked, a new image after a wrong one."""

from __future__ import annotations

import base64
import re

PNG = b"\x89PNG\r\n\x1a\n"


def form_of(page: str) -> dict[str, str]:
    """The login form's hidden anti-forgery token and captcha id, and the embedded image (bytes) if any."""
    token = re.search(r'name="__RequestVerificationToken" value="([^"]+)"', page)
    captcha = re.search(r'name="captcha_id" value="([^"]+)"', page)
    image = re.search(r'src="data:image/png;base64,([^"]+)"', page)
    return {"token": token.group(1) if token else "", "captcha_id": captcha.group(1) if captcha else "",
            "image": base64.b64decode(image.group(1)) if image else b""}


def post_login(client, customer, form: dict, answer: str | None):
    data = {"__RequestVerificationToken": form["token"], "Acesso": customer.document, "Senha": customer.password,
            "captcha_id": form["captcha_id"]}
    if answer is not None:
        data["Captcha"] = answer
    return client.post("/Login", data=data)


def solve(simulator, client, image: bytes) -> tuple[str, str]:
    """Ask the fake 2Captcha service to read `image` (in.php base64, then res.php until ready): (text, task id)."""
    submitted = client.post("/solver/in.php", data={"key": simulator.solver_key, "method": "base64", "json": 1,
                                                    "body": base64.b64encode(image).decode()}).json()
    assert submitted["status"] == 1, submitted
    for _ in range(3):
        polled = client.get("/solver/res.php", params={"key": simulator.solver_key, "action": "get",
                                                       "id": submitted["request"], "json": 1}).json()
        if polled["status"] == 1:
            return polled["request"], submitted["request"]
        assert polled["request"] == "CAPCHA_NOT_READY", polled
    raise AssertionError("the solver never answered")


def test_the_login_form_embeds_a_png_and_the_spa_family_links_it(simulator):
    simulator.admin.set_scenario({"captcha": "image", "variant": "legacy"})
    with simulator.http() as client:
        page = client.get("/Login").text
        form = form_of(page)
        assert 'id="captchaImg"' in page and "Digite os caracteres da imagem" in page
        assert form["image"].startswith(PNG) and form["captcha_id"]
        assert 'class="g-recaptcha"' not in page  # the image replaces reCAPTCHA, it is not shown beside it
        simulator.admin.set_scenario({"captcha": "image", "variant": "spa"})
        spa = client.get("/Login").text
        linked = re.search(r'src="(/Login/CaptchaImagem/[^"]+)"', spa)
        assert linked and "Letras e números da imagem" in spa
        served = client.get(linked.group(1))
        assert served.status_code == 200 and served.headers["content-type"] == "image/png"
        assert served.content.startswith(PNG)
        assert client.get("/Login/CaptchaImagem/desconhecida").status_code == 404


def test_the_answer_is_checked_and_a_wrong_one_brings_a_new_image(simulator):
    simulator.admin.set_scenario({"captcha": "image", "variant": "new"})
    customer = simulator.add_customer()
    with simulator.http() as client:
        form = form_of(client.get("/Login").text)
        missing = post_login(client, customer, form, None)
        assert missing.status_code == 200 and "Digite os caracteres da imagem." in missing.text
        form = form_of(missing.text)
        answer = simulator.admin.image_captcha_answer()
        wrong = post_login(client, customer, form, "Z" + answer[1:] if answer[0] != "Z" else "A" + answer[1:])
        assert wrong.status_code == 200 and "não conferem com a imagem" in wrong.text
        fresh = form_of(wrong.text)
        assert fresh["captcha_id"] != form["captcha_id"] and fresh["image"] != form["image"]
        replay = post_login(client, customer, form, answer)  # the old image was burnt by the wrong answer
        assert replay.status_code == 200 and "não conferem" in replay.text
        fresh = form_of(replay.text)
        right = post_login(client, customer, fresh, simulator.admin.image_captcha_answer().lower())
        assert right.status_code == 303 and right.headers["location"] == "/portal/home"
    kinds = [e["kind"] for e in simulator.admin.report()["events"]]
    assert kinds.count("captcha_rejected") == 2


def test_the_fake_solver_reads_the_image_misreads_the_first_n_and_records_reportbad(simulator):
    simulator.admin.set_scenario({"captcha": "image", "variant": "agv", "solver_wrong_answers": 1})
    customer = simulator.add_customer()
    with simulator.http() as client:
        page = client.get("/Login").text
        assert 'placeholder="Digite o texto da imagem"' in page
        form = form_of(page)
        first, task = solve(simulator, client, form["image"])
        refused = post_login(client, customer, form, first)
        assert refused.status_code == 200 and "Texto da imagem incorreto" in refused.text
        reported = client.get("/solver/res.php", params={"key": simulator.solver_key, "action": "reportbad",
                                                         "id": task, "json": 1}).json()
        assert reported == {"status": 1, "request": "OK_REPORT_RECORDED"}
        form = form_of(refused.text)
        second, _ = solve(simulator, client, form["image"])
        assert second != first
        assert post_login(client, customer, form, second).status_code == 303
        unknown = client.post("/solver/in.php", data={"key": simulator.solver_key, "method": "base64", "json": 1,
                                                      "body": base64.b64encode(PNG + b"alheia").decode()}).json()
        assert unknown["status"] == 1
        client.get("/solver/res.php", params={"key": simulator.solver_key, "action": "get", "id": unknown["request"],
                                              "json": 1})
        unreadable = client.get("/solver/res.php", params={"key": simulator.solver_key, "action": "get",
                                                           "id": unknown["request"], "json": 1}).json()
        assert unreadable == {"status": 0, "request": "ERROR_CAPTCHA_UNSOLVABLE"}
    events = [e for e in simulator.admin.report()["events"] if e["kind"] == "solver_reportbad"]
    assert [e["task_id"] for e in events] == [task]


def test_sometimes_shows_the_image_on_the_login_after_a_login_without_it(simulator):
    simulator.admin.set_scenario({"captcha": "image", "captcha_frequency": "sometimes", "variant": "legacy"})
    customer = simulator.add_customer()
    with simulator.http() as client:
        plain = form_of(client.get("/Login").text)
        assert plain["captcha_id"] == ""
        assert post_login(client, customer, plain, None).status_code == 303
    with simulator.http() as client:
        asked = form_of(client.get("/Login").text)
        assert asked["captcha_id"] and asked["image"].startswith(PNG)
        assert post_login(client, customer, asked, None).status_code == 200  # required now
        asked = form_of(client.get("/Login").text)
        assert post_login(client, customer, asked, simulator.admin.image_captcha_answer()).status_code == 303
    with simulator.http() as client:
        assert form_of(client.get("/Login").text)["captcha_id"] == ""  # and not on the next one
