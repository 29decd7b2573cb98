"""The Material-UI-like family (variant ``mui``): a React-style app another team might have written.

Designed from the reference notes alone (the journey and the wordings they document), not from the bot:
every screen is built of ``div``s with roles and MUI class names, content arrives after a spinner, the
native checkbox of the terms is visually hidden behind a styled label, a "Novidade" dialog with a backdrop
covers the home a moment after it renders, results come as snackbars instead of page loads, and the home's
services are cards with a title and an "Acessar" button. Every route under ``/app/`` serves one shell
(``mui.html``); its script talks to the JSON API below, which applies the customer's scenario per step
(faults, expiry, delays, the current password asked for) and records changes in the shared store, so one
real change is one submission. Destructive controls ("Sair", "Excluir conta", "Cancelar adesão") are logged
as ``destructive_clicked`` events when used. A seeded perturbation (simulator.portal.perturb) changes the
script's wordings, casing, titles, interstitials, order and terms, and the API's late answers, the current
password asked for and the confirmation of the new access e-mail by a code or a link sent to it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from simulator.portal import confirm_email
from simulator.portal.context import Visit, after_change, enter, render
from simulator.portal.models import StoreError
from simulator.portal.routes_account import EMAIL_RE, MSG_EMAIL_INVALID, MSG_EMAIL_TAKEN, MSG_REAUTH_WRONG

router = APIRouter()

MSG_NOT_FOUND = "Não encontramos essa instalação no seu cadastro."
MSG_NO_INSTALLATION = "Selecione uma instalação para continuar."
MSG_MUST_ACCEPT = "Você precisa concordar com os termos para continuar."
MSG_PASSWORD_NEEDED = "Para sua segurança, confirme sua senha."  # noqa: S105 - a message, not a password
MSG_CODE_WRONG = "Código inválido ou expirado."
CONFIRM_PATH = "/app/conta/confirmar-email"
"""The client-side route a confirmation link opens (its script posts the token to the API)."""

# The home's service cards (reference §5 lists the new portal's "Serviços essenciais"), in this team's words.
SERVICE_CARDS = (
    ("Estou sem luz", "Informe a falta de energia", "estou-sem-luz"),
    ("Segunda via", "Baixe ou pague suas contas", "segunda-via"),
    ("Conta digital", "Receba a conta no seu e-mail", "conta-digital"),
    ("Informar leitura", "Envie a leitura do seu medidor", "informa-leitura"),
    ("Parcelamento", "Negocie seus débitos", "parcelamento"),
    ("Todos os serviços", "Veja tudo o que você pode fazer", "todos"),
)
TERMS = (
    "Ao aderir à Conta Digital, você deixa de receber a conta de energia impressa no endereço da instalação.",
    "A conta passa a ser enviada todos os meses para o e-mail de acesso cadastrado na Cemig Atende.",
    "É responsabilidade do cliente manter o e-mail atualizado e verificar a caixa de spam.",
    "O não recebimento do e-mail não isenta o cliente do pagamento da conta até a data de vencimento.",
    "A segunda via continua disponível na Cemig Atende, no aplicativo e nos demais canais de atendimento.",
    "O cliente pode cancelar a adesão a qualquer momento, voltando a receber a conta impressa.",
    "Os dados pessoais são tratados conforme a Lei Geral de Proteção de Dados (Lei nº 13.709/2018).",
    "Esta adesão vale apenas para a instalação selecionada no momento da confirmação.",
)


@router.get("/app/{path:path}")
async def shell(request: Request, path: str) -> Response:  # noqa: ARG001 - the script routes on the path
    """The app shell: an empty root and the script that fills it after fetching."""
    visit = await enter(request, "mui_shell")
    shake = visit.shake
    cards = [[shake.conta_card if slug == "conta-digital" else title, text, slug]
             for title, text, slug in SERVICE_CARDS]
    return render(request, "mui.html", "mui", cards=cards, shake=shake, perturbation=shake.as_json())


async def _visit(request: Request, step: str) -> Visit:
    """`enter`, then the seed's late answer for the step (the page shows its spinner meanwhile)."""
    visit = await enter(request, step)
    if visit.shake.delay(step):
        await asyncio.sleep(visit.shake.delay(step))
    return visit


def _reauth(visit: Visit) -> str:
    """Whether saving the e-mail asks for the current password: the scenario's own setting, else the seed's."""
    return visit.scenario.reauth if visit.scenario.reauth != "off" else visit.shake.reauth


def _confirmation_kind(visit: Visit) -> str:
    """How the new access e-mail is confirmed: the scenario's own setting, else what the seed drew."""
    return visit.scenario.confirm_email if visit.scenario.confirm_email != "off" else visit.shake.confirm_email


def _installation(inst) -> dict:  # noqa: ANN001 - models.Installation
    return {"numero": inst.number, "uc": inst.uc_code, "endereco": " - ".join(inst.address_lines),
            "situacao": inst.status, "titular": inst.holder_name}


@router.get("/app-api/sessao")
async def session_info(request: Request) -> Response:
    """Who is logged in, the current installation, and whether the "Novidade" dialog is still to be shown."""
    visit = await _visit(request, "home")
    inst = visit.installation
    return JSONResponse({
        "nome": visit.customer.name,
        "numeroCliente": inst.customer_number if inst else "",
        "instalacao": _installation(inst) if inst else None,
        "total": len(visit.portal.store.installations(visit.customer.id)),
        "novidade": visit.scenario.post_login_modal and not visit.session.modal_dismissed,
    })


@router.post("/app-api/novidade")
async def dismiss_news(request: Request) -> Response:
    """The "Novidade" dialog was closed: not again in this session."""
    visit = await enter(request, "home_modal")
    visit.portal.sessions.dismiss_modal(visit.session.id)
    return JSONResponse({"ok": True})


@router.get("/app-api/instalacoes")
async def installations(request: Request) -> Response:
    """Every installation of the login, and which one is current."""
    visit = await _visit(request, "installations")
    current = visit.installation.number if visit.installation else None
    return JSONResponse({"atual": current,
                         "lista": [_installation(i) for i in visit.portal.store.installations(visit.customer.id)]})


@router.put("/app-api/instalacoes/atual")
async def choose(request: Request) -> Response:
    """Make an installation the current one (by number or UC code)."""
    visit = await _visit(request, "installations")
    number = str((await request.json()).get("numero") or "")
    found = visit.portal.store.find_installation(number, customer_id=visit.customer.id) if number else None
    if found is None:
        return JSONResponse({"mensagem": MSG_NOT_FOUND}, status_code=404)
    visit.portal.sessions.select_installation(visit.session.id, found.number)
    return JSONResponse({"ok": True, "instalacao": _installation(found)})


@router.get("/app-api/acesso")
async def access_data(request: Request) -> Response:
    """The access e-mail, and whether the form must ask for the current password."""
    visit = await _visit(request, "access_data_form")
    reauth = _reauth(visit)
    return JSONResponse({"email": visit.customer.email or "", "pedirSenha": reauth == "form",
                         "novaSenha": reauth == "new_password"})


@router.put("/app-api/acesso")
async def save_access_data(request: Request) -> Response:
    """Change the access e-mail: validated, unique, and behind the current password when the scenario says so.

    With ``reauth`` "dialog" a save without the password answers 428, and the page asks for it in a dialog;
    with "new_password" the form shows an optional "Nova senha" field instead, and the save is refused.
    """
    visit = await _visit(request, "access_data_save")
    body = await request.json()
    email = str(body.get("email") or "").strip()
    if not EMAIL_RE.match(email):
        return JSONResponse({"mensagem": MSG_EMAIL_INVALID}, status_code=422)
    reauth = _reauth(visit)
    if reauth != "off":
        current = str(body.get("senhaAtual") or "")
        if not current and reauth == "dialog":
            return JSONResponse({"mensagem": MSG_PASSWORD_NEEDED}, status_code=428)
        if not visit.portal.store.check_password(visit.customer.id, current):
            visit.portal.store.log_event("current_password_rejected", customer_id=visit.customer.id)
            return JSONResponse({"mensagem": MSG_REAUTH_WRONG}, status_code=403)
    if email == (visit.customer.email or ""):
        return JSONResponse({"ok": True, "email": email})
    kind = _confirmation_kind(visit)
    if kind != "off" and visit.portal.outbox is not None:
        confirm_email.start(visit.portal.store, visit.portal.outbox, customer_id=visit.customer.id, email=email,
                            kind=kind, base_url=str(request.base_url), link_path=CONFIRM_PATH)
        return JSONResponse({"ok": True, "pendente": kind, "email": visit.customer.email or ""}, status_code=202)
    return _change_email(visit, email)


def _change_email(visit: Visit, email: str) -> Response:
    try:
        visit.portal.store.change_email(visit.customer.id, email)
    except StoreError:
        return JSONResponse({"mensagem": MSG_EMAIL_TAKEN}, status_code=409)
    after_change(visit, "access_data_save")
    return JSONResponse({"ok": True, "email": email})


@router.post("/app-api/acesso/confirmacao")
async def confirm_access_email(request: Request) -> Response:
    """The code typed, or the link's token, that confirms a pending access e-mail."""
    visit = await _visit(request, "access_data_save")
    body = await request.json()
    token = str(body.get("codigo") or body.get("token") or "")
    email = confirm_email.finish(visit.portal.store, visit.customer.id, token)
    if email is None:
        return JSONResponse({"mensagem": MSG_CODE_WRONG}, status_code=422)
    return _change_email(visit, email)


@router.get("/app-api/conta-digital")
async def conta_digital(request: Request) -> Response:
    """Whether the current installation is enrolled, and (masked) where its bills go."""
    visit = await _visit(request, "conta_digital")
    if visit.installation is None:
        return JSONResponse({"mensagem": MSG_NO_INSTALLATION}, status_code=409)
    inst = visit.portal.store.installation(visit.installation.number)
    return JSONResponse({"aderida": inst.enrolled, "desde": (inst.enrolled_at or "")[:10],
                         "instalacao": _installation(inst), "destino": visit.shake.shown_email(visit.customer.email)})


@router.get("/app-api/conta-digital/termo")
async def terms(request: Request) -> Response:
    """The terms' paragraphs (fetched when the dialog opens)."""
    await _visit(request, "adhesion_terms")
    return JSONResponse({"titulo": "Termo de adesão à Conta Digital", "paragrafos": list(TERMS)})


@router.post("/app-api/conta-digital/adesao")
async def adhere(request: Request) -> Response:
    """Enrol the current installation: counted on every accepted submission, enrols once."""
    visit = await _visit(request, "adhesion_confirm")
    if visit.installation is None:
        return JSONResponse({"mensagem": MSG_NO_INSTALLATION}, status_code=409)
    if not (await request.json()).get("concordo"):
        return JSONResponse({"mensagem": MSG_MUST_ACCEPT}, status_code=422)
    visit.portal.store.submit_adhesion(visit.installation.number)
    after_change(visit, "adhesion_confirm")
    protocol = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + visit.installation.number[-4:]
    return JSONResponse({"ok": True, "protocolo": protocol})


@router.post("/app-api/conta-digital/cancelamento")
async def cancel(request: Request) -> Response:
    """"Cancelar adesão": back to printed bills (an automation must never get here)."""
    visit = await enter(request, "adhesion_cancel")
    visit.portal.store.log_event("destructive_clicked", customer_id=visit.customer.id, control="Cancelar adesão")
    if visit.installation is not None and visit.installation.enrolled:
        visit.portal.store.cancel_adhesion(visit.installation.number)
    return JSONResponse({"ok": True})


@router.post("/app-api/telemetria")
async def telemetry(request: Request) -> Response:
    """The page reports a destructive control being used ("Sair", "Excluir conta", "Trocar senha")."""
    visit = await enter(request, "mui_event")
    control = str((await request.json()).get("controle") or "")[:80]
    visit.portal.store.log_event("destructive_clicked", customer_id=visit.customer.id, control=control)
    return JSONResponse({"ok": True})
