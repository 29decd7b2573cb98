"""The new-portal-like single-page family (variant ``spa``): one shell, client-side routes, a JSON API.

Every route under ``/portal/`` below serves the same shell; its script fetches the data after load
("Carregando…"), routes on the client, opens modals and shows toasts that vanish. The API applies the
customer's scenario per step (faults, expiry, delays) and the seeded perturbation's delays
(simulator.portal.perturb). Destructive controls the page offers ("Sair", "Excluir conta", "Cancelar
adesão", "Continuar com Google") are logged as ``destructive_clicked`` events when used.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from simulator.portal.context import Visit, after_change, enter, render
from simulator.portal.models import StoreError
from simulator.portal.perturb import Perturbation, mask
from simulator.portal.routes_account import EMAIL_RE, MSG_EMAIL_INVALID, MSG_EMAIL_TAKEN, MSG_REAUTH_WRONG, SERVICES

router = APIRouter()
ROUTES = ("inicio", "instalacoes", "dados-de-acesso", "conta-digital", "servicos/{slug}")
MSG_NOT_FOUND = "Instalação não encontrada para este usuário."


def perturbation(visit: Visit) -> Perturbation:
    """The seeded perturbation in force for this customer."""
    return Perturbation.of(visit.scenario.perturb_seed)


async def _visit(request: Request, step: str) -> tuple[Visit, Perturbation]:
    visit = await enter(request, step)
    shake = perturbation(visit)
    if shake.delay(step):
        await asyncio.sleep(shake.delay(step))
    return visit, shake


async def shell(request: Request) -> Response:
    """The application shell: header and main are empty until the script has fetched them."""
    visit = await enter(request, "spa_shell")
    shake = perturbation(visit)
    services = [label if href != "/ContaDigital" else shake.conta_card for label, href in SERVICES]
    services.insert(4, "Fale com a gente")
    return render(request, "spa.html", "spa", config={"perturbation": shake.as_json(), "services": services})


for _route in ROUTES:
    router.add_api_route(f"/portal/{_route}", shell, methods=["GET"])


def _installation_json(inst) -> dict:  # noqa: ANN001 - models.Installation
    return {"number": inst.number, "uc_code": inst.uc_code, "address": ", ".join(inst.address_lines),
            "customer_number": inst.customer_number, "status": inst.status,
            "client_document": inst.holder_document, "client_name": inst.holder_name}


@router.get("/portal/api/me")
async def me(request: Request) -> Response:
    """Who is logged in, the current installation and the others."""
    visit, _ = await _visit(request, "home")
    installations = visit.portal.store.installations(visit.customer.id)
    return JSONResponse({
        "name": visit.customer.name,
        "installation": _installation_json(visit.installation) if visit.installation else None,
        "installations": [_installation_json(i) for i in installations],
    })


@router.post("/portal/api/instalacao")
async def choose_installation(request: Request) -> Response:
    """Make an installation the current one."""
    visit, _ = await _visit(request, "installations")
    number = str((await request.json()).get("number") or "")
    found = visit.portal.store.find_installation(number, customer_id=visit.customer.id) if number else None
    if found is None:
        return JSONResponse({"error": MSG_NOT_FOUND}, status_code=404)
    visit.portal.sessions.select_installation(visit.session.id, found.number)
    return JSONResponse({"ok": True})


@router.get("/portal/api/acesso")
async def access_data(request: Request) -> Response:
    """The access e-mail."""
    visit, _ = await _visit(request, "access_data_form")
    return JSONResponse({"email": visit.customer.email or ""})


@router.post("/portal/api/acesso")
async def save_access_data(request: Request) -> Response:
    """Change the access e-mail (validated; unique among logins)."""
    visit, shake = await _visit(request, "access_data_save")
    body = await request.json()
    email = str(body.get("email") or "").strip()
    if not EMAIL_RE.match(email):
        return JSONResponse({"error": MSG_EMAIL_INVALID}, status_code=422)
    if shake.reauth != "off" and not visit.portal.store.check_password(
            visit.customer.id, str(body.get("senha_atual") or "")):
        visit.portal.store.log_event("current_password_rejected", customer_id=visit.customer.id)
        return JSONResponse({"error": MSG_REAUTH_WRONG}, status_code=403)
    try:
        visit.portal.store.change_email(visit.customer.id, email)
    except StoreError:
        return JSONResponse({"error": MSG_EMAIL_TAKEN}, status_code=409)
    after_change(visit, "access_data_save")
    return JSONResponse({"ok": True})


@router.get("/portal/api/conta-digital")
async def conta_digital(request: Request) -> Response:
    """Whether the current installation is enrolled, and where bills go (masked when the seed says so)."""
    visit, shake = await _visit(request, "conta_digital")
    if visit.installation is None:
        return JSONResponse({"error": "Nenhuma instalação selecionada."}, status_code=409)
    inst = visit.portal.store.installation(visit.installation.number)
    email = visit.customer.email or ""
    return JSONResponse({"enrolled": inst.enrolled, "installation": _installation_json(inst),
                         "email": mask(email) if shake.mask_email else email})


@router.post("/portal/api/conta-digital/adesao")
async def adhere(request: Request) -> Response:
    """Enrol the current installation (counted on every accepted submission, enrols once)."""
    visit, _ = await _visit(request, "adhesion_confirm")
    if visit.installation is None:
        return JSONResponse({"error": "Nenhuma instalação selecionada."}, status_code=409)
    if not (await request.json()).get("aceite"):
        return JSONResponse({"error": "É preciso aceitar o termo de adesão."}, status_code=422)
    visit.portal.store.submit_adhesion(visit.installation.number)
    after_change(visit, "adhesion_confirm")
    protocol = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + visit.installation.number[-4:]
    return JSONResponse({"ok": True, "protocol": protocol})


@router.post("/portal/api/conta-digital/cancelar")
async def cancel(request: Request) -> Response:
    """"Cancelar adesão": back to printed bills."""
    visit, _ = await _visit(request, "adhesion_cancel")
    if visit.installation is not None and visit.installation.enrolled:
        visit.portal.store.cancel_adhesion(visit.installation.number)
    return JSONResponse({"ok": True})


@router.post("/auth/google")
async def google(request: Request) -> Response:
    """"Continuar com Google" on the login page: an automation must never press it."""
    request.app.state.portal.store.log_event("destructive_clicked", control="Continuar com Google")
    return JSONResponse({"error": "indisponível"}, status_code=403)


@router.post("/portal/api/evento")
async def event(request: Request) -> Response:
    """The page reports a destructive control being used (the tests assert nobody did)."""
    body = await request.json()
    visit = await enter(request, "spa_event")
    visit.portal.store.log_event("destructive_clicked", customer_id=visit.customer.id,
                                 control=str(body.get("control") or "")[:80])
    return JSONResponse({"ok": True})
