"""Login, logout, the "Não sou um robô" checkbox and the 2Captcha-style solver endpoints."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from simulator.portal import scenarios
from simulator.portal.context import home_url, obstacles, portal_of, render
from simulator.portal.sessions import COOKIE_NAME

router = APIRouter()

MSG_INVALID = "Usuário ou senha inválidos."
MSG_EMPTY = "Informe o CPF, CNPJ ou e-mail e a senha."
MSG_LOCKED = ("Acesso bloqueado por excesso de tentativas sem sucesso. "
              "Redefina sua senha ou procure o atendimento da Cemig.")
MSG_CAPTCHA_MISSING = "Confirme que você não é um robô."
MSG_CAPTCHA_FAILED = "Falha na verificação do reCAPTCHA. Tente novamente."
MSG_IMAGE_MISSING = "Digite os caracteres da imagem."
MSG_IMAGE_WRONG = {  # each family words it its own way (plausible variants; no source quotes the real one)
    "agv": "Texto da imagem incorreto. Digite novamente.",
    "spa": "Captcha inválido: os caracteres não conferem.",
}
MSG_IMAGE_WRONG_DEFAULT = "Os caracteres digitados não conferem com a imagem. Tente novamente."
MSG_EXPIRED = "Sua sessão expirou. Faça login novamente."
MSG_FORM = "A página de login expirou. Tente novamente."
MSG_LOGGED_OUT = "Você saiu da Agência Virtual."
LOGIN_TEMPLATES = {"spa": "spa_login.html", "mui": "mui_login.html"}
"""The client-side families have their own login page; every other family shares login.html."""


def _login_page(request: Request, *, captcha: str, error: str | None = None, notice: str | None = None,
                identifier: str = "", image: bool = False) -> Response:
    portal = portal_of(request)
    site = scenarios.effective(portal.store, None)
    challenge = portal.captcha.images.issue() if image else None
    return render(
        request, LOGIN_TEMPLATES.get(site.variant, "login.html"), site.variant, error=error,
        notice=notice, identifier=identifier,
        captcha_mode=captcha, site_key=portal.captcha.site_key, form_token=portal.form_token,
        captcha_image=challenge,
    )


@router.get("/")
async def root() -> Response:
    """The portal's address goes to the login page."""
    return RedirectResponse("/Login", status_code=303)


@router.get("/Login")
@router.get("/Login/Index")
async def login_page(request: Request, sessao: str | None = None, saiu: str | None = None) -> Response:
    """The login form (site scenario: variant, captcha mode, delay and faults of step ``login``)."""
    portal = portal_of(request)
    site = scenarios.effective(portal.store, None)
    await obstacles(portal, site, "login")
    session = portal.sessions.get(portal.sessions.unsign(request.cookies.get(COOKIE_NAME)))
    if session is not None:
        variant = scenarios.effective(portal.store, session.customer_id).variant
        return RedirectResponse(home_url(variant), status_code=303)
    notice = MSG_LOGGED_OUT if saiu else None
    return _login_page(request, captcha=site.captcha, error=MSG_EXPIRED if sessao == "expirada" else None,
                       notice=notice, image=scenarios.image_captcha_due(portal.store, site))


@router.post("/Login")
@router.post("/Login/Index")
async def login_submit(request: Request) -> Response:
    """Check the challenge, then the password; lock the login after too many wrong passwords."""
    portal = portal_of(request)
    store = portal.store
    form = await request.form()
    identifier = str(form.get("Acesso") or form.get("userId") or "").strip()
    password = str(form.get("Senha") or form.get("password") or "")
    customer = store.find_customer(identifier) if identifier else None
    scenario = scenarios.effective(store, customer.id if customer else None)
    await obstacles(portal, scenario, "login")

    xhr = request.headers.get("x-requested-with") == "XMLHttpRequest"  # the single-page login posts by fetch

    image_due = scenarios.image_captcha_due(store, scenario)

    def again(error: str, captcha: str = scenario.captcha) -> Response:
        if xhr:
            if image_due:  # the single-page form swaps in the new image the answer carries
                challenge = portal.captcha.images.issue()
                return JSONResponse({"error": error, "captcha_id": challenge.id,
                                     "captcha_src": f"/Login/CaptchaImagem/{challenge.id}"})
            return JSONResponse({"error": error})
        return _login_page(request, captcha=captcha, error=error, identifier=identifier, image=image_due)

    if not secrets.compare_digest(str(form.get("__RequestVerificationToken") or ""), portal.form_token):
        return again(MSG_FORM)
    if image_due:
        answer = str(form.get("Captcha") or form.get("captcha") or "").strip()
        if not answer:
            return again(MSG_IMAGE_MISSING)
        if not portal.captcha.images.check(str(form.get("captcha_id") or ""), answer):
            store.log_event("captcha_rejected", customer_id=customer.id if customer else None, captcha="image")
            return again(MSG_IMAGE_WRONG.get(scenario.variant, MSG_IMAGE_WRONG_DEFAULT))
    elif scenario.captcha not in ("off", "image"):
        token = str(form.get("g-recaptcha-response") or "")
        if not token:
            return again(MSG_CAPTCHA_MISSING)
        if not portal.captcha.verify(token, scenario.captcha):
            store.log_event("captcha_rejected", customer_id=customer.id if customer else None)
            return again(MSG_CAPTCHA_FAILED)
    if not identifier or not password:
        return again(MSG_EMPTY)
    if customer is None:
        return again(MSG_INVALID)
    if customer.locked:
        return again(MSG_LOCKED)
    if not store.check_password(customer.id, password):
        customer = store.record_failed_login(customer.id)
        return again(MSG_LOCKED if customer.locked else MSG_INVALID)
    store.record_login(customer.id)
    scenarios.login_succeeded(store, scenario, passed_image=image_due)
    installations = store.installations(customer.id)
    session = portal.sessions.create(customer.id, installations[0].number if installations else None)
    response: Response = (JSONResponse({"redirect": home_url(scenario.variant)}) if xhr
                          else RedirectResponse(home_url(scenario.variant), status_code=303))
    response.set_cookie(COOKIE_NAME, portal.sessions.sign(session.id), httponly=True, samesite="lax", path="/")
    return response


@router.post("/Logout")
@router.get("/Logout")
async def logout(request: Request) -> Response:
    """"Sair": end the session and go back to the login page."""
    portal = portal_of(request)
    session_id = portal.sessions.unsign(request.cookies.get(COOKIE_NAME))
    session = portal.sessions.get(session_id)
    # "Sair" in the middle of a journey is a click an automation must never make: logged for the tests.
    portal.store.log_event("destructive_clicked", customer_id=session.customer_id if session else None,
                           control="Sair")
    if session_id:
        portal.sessions.end(session_id)
    response = RedirectResponse("/Login?saiu=1", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


@router.get("/recaptcha/api2/anchor")
async def recaptcha_anchor(request: Request, k: str = "") -> Response:
    """The anchor iframe Google serves for a reCAPTCHA v2 checkbox (the site key comes as ``k``)."""
    portal = portal_of(request)
    return portal.templates.TemplateResponse(request, "recaptcha_anchor.html",
                                             {"site_key": k or portal.captcha.site_key})


@router.get("/Login/CaptchaImagem/{challenge_id}")
async def captcha_image(request: Request, challenge_id: str) -> Response:
    """The PNG of one image challenge (the single-page family links it instead of embedding it)."""
    png = portal_of(request).captcha.images.png(challenge_id)
    if png is None:
        return PlainTextResponse("imagem não encontrada", status_code=404)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


@router.post("/recaptcha/api2/userverify")
async def checkbox_token(request: Request) -> Response:
    """The checkbox widget asks for a token; in always-fail mode (site-wide) it gets none."""
    portal = portal_of(request)
    if scenarios.effective(portal.store, None).captcha == "always-fail":
        return JSONResponse({"success": False, "error": "Falha na verificação. Tente novamente."}, status_code=403)
    return JSONResponse({"success": True, "token": portal.captcha.issue("checkbox")})


def _solver_answer(ok: bool, value: str, as_json: bool) -> Response:
    if as_json:
        return JSONResponse({"status": 1 if ok else 0, "request": value})
    return PlainTextResponse(f"OK|{value}" if ok else value)


@router.api_route("/solver/in.php", methods=["GET", "POST"])
async def solver_in(request: Request) -> Response:
    """2Captcha ``in.php``: key, method=userrecaptcha + googlekey + pageurl, or method=base64 + body → ``OK|<id>``."""
    params = dict(request.query_params)
    if request.method == "POST":
        params.update({k: str(v) for k, v in (await request.form()).items()})
    portal = portal_of(request)
    ok, value = portal.captcha.solver_submit(
        key=params.get("key", ""), method=params.get("method", ""), googlekey=params.get("googlekey", ""),
        pageurl=params.get("pageurl", ""), body=params.get("body", ""),
        wrong_answers=scenarios.effective(portal.store, None).solver_wrong_answers,
    )
    return _solver_answer(ok, value, params.get("json") == "1")


@router.get("/solver/res.php")
async def solver_res(request: Request) -> Response:
    """2Captcha ``res.php``: ``action=get`` polls a task, ``action=reportbad`` flags a refused answer.

    ``get`` answers ``CAPCHA_NOT_READY`` on the first poll, then ``OK|<token or text>``.
    """
    portal = portal_of(request)
    params = request.query_params
    ok, value = portal.captcha.solver_result(
        key=params.get("key", ""), action=params.get("action", ""), task_id=params.get("id", ""),
        mode=scenarios.effective(portal.store, None).captcha,
    )
    return _solver_answer(ok, value, params.get("json") == "1")
