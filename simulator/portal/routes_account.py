"""Home, switching installations, the post-login modal and "Editar dados de acesso"."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from simulator.portal import confirm_email
from simulator.portal.context import Visit, after_change, enter, home_url, render_visit
from simulator.portal.models import StoreError, digits

router = APIRouter()

EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
MSG_EMAIL_INVALID = "Informe um e-mail válido."
MSG_EMAIL_TAKEN = "Este e-mail já está em uso por outro usuário."
MSG_NOT_FOUND = "Instalação não encontrada para este usuário."
MSG_REAUTH_WRONG = "Senha atual incorreta."

# The services bar, in the order the new portal's "Serviços essenciais" grid shows them (reference §5).
SERVICES = (
    ("Estou sem luz", "/Servicos/estou-sem-luz"),
    ("Notificações", "/Servicos/notificacoes"),
    ("Segunda via de conta", "/Servicos/segunda-via"),
    ("Parcelamento de débitos", "/Servicos/parcelamento"),
    ("Informa leitura", "/Servicos/informa-leitura"),
    ("Conta Digital", "/ContaDigital"),
    ("Envio de documentos pendentes", "/Servicos/documentos-pendentes"),
    ("Histórico de atendimento", "/Servicos/historico-atendimento"),
    ("Todos os serviços", "/Servicos/todos"),
)
PLACEHOLDERS = {
    "estou-sem-luz": "Estou sem luz", "notificacoes": "Notificações", "segunda-via": "Segunda via de conta",
    "parcelamento": "Parcelamento de débitos", "informa-leitura": "Informa leitura",
    "documentos-pendentes": "Envio de documentos pendentes", "historico-atendimento": "Histórico de atendimento",
    "todos": "Todos os serviços", "dados-contrato": "Editar dados de contrato", "trocar-senha": "Trocar senha",
    "excluir-conta": "Excluir conta",
}


def format_document(doc: str) -> str:
    """CPF or CNPJ with its usual mask."""
    if len(doc) == 11:
        return f"{doc[:3]}.{doc[3:6]}.{doc[6:9]}-{doc[9:]}"
    if len(doc) == 14:
        return f"{doc[:2]}.{doc[2:5]}.{doc[5:8]}/{doc[8:12]}-{doc[12:]}"
    return doc


@router.get("/Home")
@router.get("/Home/Index")
@router.get("/portal/home")
async def home(request: Request) -> Response:
    """The logged-in home: selected installation, notices, a long page, the services bar near the bottom."""
    visit = await enter(request, "home")
    if visit.scenario.variant in ("spa", "mui"):
        return RedirectResponse(home_url(visit.scenario.variant), status_code=303)
    show_modal = visit.scenario.post_login_modal and not visit.session.modal_dismissed
    services = [(visit.shake.conta_card if href == "/ContaDigital" else label, href) for label, href in SERVICES]
    return render_visit(request, visit, "home.html", services=services, show_modal=show_modal)


@router.post("/Avisos/Fechar")
async def close_modal(request: Request) -> Response:
    """"Fechar" / "Agora não" on the "Atualize seus dados" modal."""
    visit = await enter(request, "home_modal")
    visit.portal.sessions.dismiss_modal(visit.session.id)
    return RedirectResponse(home_url(visit.scenario.variant), status_code=303)


@router.get("/Instalacoes")
async def installations_page(request: Request, cliente: str | None = None) -> Response:
    """"Minhas instalações": pick a client (when several CNPJs), search or choose an installation."""
    visit = await enter(request, "installations")
    return _installations(request, visit, cliente)


def _installations(request: Request, visit: Visit, cliente: str | None, error: str | None = None,
                   typed: str = "") -> Response:
    everything = visit.portal.store.installations(visit.customer.id)
    clients: list[tuple[str, str]] = []
    for inst in everything:
        if inst.holder_document not in {c[0] for c in clients}:
            clients.append((inst.holder_document, f"{format_document(inst.holder_document)} - {inst.holder_name}"))
    selected_client = digits(cliente or "")
    shown = [i for i in everything if not selected_client or i.holder_document == selected_client]
    documents = {i.holder_document: format_document(i.holder_document) for i in everything}
    return render_visit(request, visit, "installations.html", clients=clients, selected_client=selected_client,
                        shown=shown, documents=documents, error=error, typed=typed,
                        status_code=404 if error else 200)


@router.post("/Instalacoes/Selecionar")
async def select_installation(request: Request) -> Response:
    """Switch to an installation typed (10-digit number or 15-digit UC, masked or not) or chosen."""
    visit = await enter(request, "installations")
    form = await request.form()
    typed = str(form.get("NumeroInstalacao") or "").strip()
    found = visit.portal.store.find_installation(typed, customer_id=visit.customer.id) if digits(typed) else None
    if found is None:
        return _installations(request, visit, str(form.get("cliente") or ""), error=MSG_NOT_FOUND, typed=typed)
    visit.portal.sessions.select_installation(visit.session.id, found.number)
    return RedirectResponse(home_url(visit.scenario.variant), status_code=303)


@router.get("/DadosAcesso")
async def access_data_form(request: Request) -> Response:
    """"Editar dados de acesso": the access e-mail."""
    visit = await enter(request, "access_data_form")
    return render_visit(request, visit, "access_data.html", email=visit.customer.email or "", error=None,
                        ask_password=_in_form(visit.scenario.reauth), confirm_dialog=False)


@router.post("/DadosAcesso")
async def access_data_save(request: Request) -> Response:
    """Save a new access e-mail (validated; unique among logins)."""
    visit = await enter(request, "access_data_save")
    form = await request.form()
    email = str(form.get("email") or form.get("Email") or "").strip()
    asks = visit.scenario.reauth
    page = {"ask_password": _in_form(asks), "confirm_dialog": False}
    if not EMAIL_RE.match(email):
        return render_visit(request, visit, "access_data.html", email=email, error=MSG_EMAIL_INVALID,
                            status_code=422, **page)
    if asks != "off":
        current = str(form.get("SenhaAtual") or "")
        if not current and asks == "dialog":
            return render_visit(request, visit, "access_data.html", email=email, error=None, ask_password=False,
                                confirm_dialog=True)
        if not visit.portal.store.check_password(visit.customer.id, current):
            visit.portal.store.log_event("current_password_rejected", customer_id=visit.customer.id)
            return render_visit(request, visit, "access_data.html", email=email, error=MSG_REAUTH_WRONG,
                                status_code=403, **page)
    confirm_by = _confirmation_kind(visit)
    if confirm_by != "off" and visit.portal.outbox is not None:
        confirm_email.start(visit.portal.store, visit.portal.outbox, customer_id=visit.customer.id, email=email,
                            kind=confirm_by, base_url=str(request.base_url))
        return render_visit(request, visit, "access_data_confirm.html", email=email, kind=confirm_by, error=None)
    return _change_email(request, visit, email, page)


def _change_email(request: Request, visit: Visit, email: str, page: dict) -> Response:
    try:
        visit.portal.store.change_email(visit.customer.id, email)
    except StoreError:
        return render_visit(request, visit, "access_data.html", email=email, error=MSG_EMAIL_TAKEN,
                            status_code=409, **page)
    after_change(visit, "access_data_save")
    return render_visit(request, visit, "access_data_saved.html", email=email)


@router.post("/DadosAcesso/Confirmar")
@router.get("/DadosAcesso/Confirmar")
async def access_data_confirm(request: Request, token: str | None = None) -> Response:
    """The code typed, or the link followed, that confirms a pending access e-mail."""
    visit = await enter(request, "access_data_save")
    if request.method == "POST":
        token = str((await request.form()).get("Codigo") or "")
    email = confirm_email.finish(visit.portal.store, visit.customer.id, token or "")
    if email is None:
        return render_visit(request, visit, "access_data_confirm.html", email="", kind="code",
                            error="Código inválido ou expirado.", status_code=422)
    return _change_email(request, visit, email, {"ask_password": None, "confirm_dialog": False})


def _confirmation_kind(visit: Visit) -> str:
    """How the new access e-mail is confirmed: the scenario's own setting, else what the seed drew."""
    return visit.scenario.confirm_email if visit.scenario.confirm_email != "off" else visit.shake.confirm_email


def _in_form(reauth: str) -> str | None:
    """Which password field the access-data form itself shows, if any."""
    return reauth if reauth in {"form", "new_password"} else None


@router.get("/DadosContrato")
async def contract_data(request: Request) -> Response:
    """"Editar dados de contrato" (not simulated)."""
    return await service_placeholder(request, "dados-contrato")


@router.get("/TrocarSenha")
async def change_password(request: Request) -> Response:
    """"Trocar senha" (not simulated)."""
    return await service_placeholder(request, "trocar-senha")


@router.get("/ExcluirConta")
async def delete_account(request: Request) -> Response:
    """"Excluir conta" (not simulated: it never deletes anything)."""
    visit = await enter(request, "service")
    visit.portal.store.log_event("destructive_clicked", customer_id=visit.customer.id, control="Excluir conta")
    return await service_placeholder(request, "excluir-conta")


@router.get("/Servicos/{slug}")
async def service_placeholder(request: Request, slug: str) -> Response:
    """Services the simulator does not implement: a page that says so."""
    visit = await enter(request, "service")
    title = PLACEHOLDERS.get(slug, "Serviço")
    return render_visit(request, visit, "service.html", title=title, status_code=200 if slug in PLACEHOLDERS else 404)
