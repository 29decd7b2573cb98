"""Conta Digital: installation data, "Aderir à Conta Digital", the terms, confirmation and cancellation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from simulator.portal.context import Visit, after_change, enter, render_visit

router = APIRouter()

MSG_ACCEPT_TERMS = "Para continuar, marque \"Li e aceito o termo de adesão\"."


def _no_installation(request: Request, visit: Visit) -> Response:
    return render_visit(request, visit, "conta_digital.html", status_code=409)


@router.get("/ContaDigital")
async def conta_digital(request: Request) -> Response:
    """The service page: enrolled or not, with the installation's data."""
    visit = await enter(request, "conta_digital")
    return render_visit(request, visit, "conta_digital.html")


@router.get("/ContaDigital/Termo")
async def adhesion_terms(request: Request) -> Response:
    """"Termo de adesão": the terms, the acceptance checkbox and "Confirmar adesão"."""
    visit = await enter(request, "adhesion_terms")
    if visit.installation is None or visit.installation.enrolled:
        return render_visit(request, visit, "conta_digital.html")
    return render_visit(request, visit, "adhesion_terms.html", error=None)


@router.post("/ContaDigital/Adesao")
async def adhesion_confirm(request: Request) -> Response:
    """Confirm the adhesion: counted on every accepted submission, enrols once."""
    visit = await enter(request, "adhesion_confirm")
    if visit.installation is None:
        return _no_installation(request, visit)
    form = await request.form()
    if not form.get("aceite"):
        return render_visit(request, visit, "adhesion_terms.html", error=MSG_ACCEPT_TERMS, status_code=422)
    enrolled_now = visit.portal.store.submit_adhesion(visit.installation.number)
    after_change(visit, "adhesion_confirm")
    if not enrolled_now:
        inst = visit.portal.store.installation(visit.installation.number)
        return render_visit(request, visit, "conta_digital.html", installation=inst)
    protocol = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + visit.installation.number[-4:]
    return render_visit(request, visit, "adhesion_done.html", protocol=protocol)


@router.post("/ContaDigital/Cancelar")
async def adhesion_cancel(request: Request) -> Response:
    """"Cancelar adesão": back to printed bills."""
    visit = await enter(request, "adhesion_cancel")
    visit.portal.store.log_event("destructive_clicked", customer_id=visit.customer.id, control="Cancelar adesão")
    if visit.installation is None:
        return _no_installation(request, visit)
    if visit.installation.enrolled:
        visit.portal.store.cancel_adhesion(visit.installation.number)
    after_change(visit, "adhesion_cancel")
    return render_visit(request, visit, "adhesion_cancelled.html")


@router.get("/api/conteudo")
async def late_content(ms: int = 0) -> Response:
    """What a page's script waits for before it shows its main content (a seed's late render, 0–5 s)."""
    await asyncio.sleep(min(max(ms, 0), 5000) / 1000)
    return JSONResponse({"ok": True})
