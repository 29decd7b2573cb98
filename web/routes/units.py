"""Pages: "Unidades" (list, new, CSV import) and the unit page with "Cadastrar e-mail" and adhesion."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from processor.uploads import ImportResult
from reports.alerts import unit_alerts
from reports.monthly import monthly_rows
from service.digest import thresholds
from service.status import mailbox_problems
from storage.invoices import payee_mismatches
from storage.models import NEXT_ACTOR, AdhesionStatus, Unit, UnitCreate
from storage.unit_csv import MAX_CSV_BYTES
from storage.validators import UnitInputError
from storage.web_models import Integrator
from web import labels
from web.context import WebContext
from web.deps import CsrfDep, SessionDep, UserDep, WebDep
from web.errors import NotFound
from web.render import page
from web.services.adhesion import adhesion_view, screenshot_blob
from web.services.invoices import forwards_by_invoice, invoices_of
from web.services.unit_groups import GROUPINGS, group_units
from web.services.units import add_unit, change_unit, email_settings_update, import_csv, own_unit, search_units

router = APIRouter(include_in_schema=False)
UnitId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def _unit_create(**fields: str) -> UnitCreate:
    data = {k: v for k, v in fields.items() if v not in ("", None)}
    try:
        return UnitCreate(**data)
    except ValidationError as exc:
        error = exc.errors()[0]
        column = str(error["loc"][0]) if error["loc"] else "unidade"
        raise UnitInputError(column, "is required" if error["type"] == "missing" else error["msg"],
                             user_message="Preencha os campos obrigatórios.") from exc


@router.get("/")
def home(user: UserDep) -> Response:
    """The dashboard starts at the units."""
    return RedirectResponse("/unidades", status_code=303)


@router.get("/unidades")
def units_page(request: Request, session: SessionDep, web: WebDep, user: UserDep, q: str = "", estado: str = "",
               quem: str = "", agrupar: str = "") -> Response:
    """The integrator's units: search, filter, group by holder or login; mailboxes the operator must fix."""
    units = search_units(session=session, integrator=user, search=q, status=estado or None, actor=quem or None)
    groups = group_units(session=session, units=units, by=agrupar) if agrupar in GROUPINGS else None
    return page(request, "units.html", {"user": user, "units": units, "q": q, "estado": estado, "quem": quem,
                                        "agrupar": agrupar if groups is not None else "", "groups": groups,
                                        "groupings": GROUPINGS,
                                        "states": [s.value for s in AdhesionStatus],
                                        "actors": sorted(set(NEXT_ACTOR.values())), "next_actor": NEXT_ACTOR,
                                        "AdhesionStatus": AdhesionStatus,
                                        "mailbox_problems": mailbox_problems(web.app.settings.mail)})


@router.get("/unidades/nova")
def new_unit_form(request: Request, web: WebDep, user: UserDep, exemplo: int = 0) -> Response:
    """The form for a new unit; in sandbox mode, the sample clients and `?exemplo=N` to fill the form with one."""
    samples = web.sandbox.samples() if web.sandbox is not None else []
    prefill = samples[exemplo - 1] if 1 <= exemplo <= len(samples) else None
    return page(request, "unit_new.html", {"user": user, "samples": samples, "prefill": prefill})


@router.post("/unidades/nova", dependencies=[CsrfDep])
def new_unit(request: Request, session: SessionDep, web: WebDep, user: UserDep,
             installation: Annotated[str, Form()] = "", uc_code: Annotated[str, Form()] = "",
             client_name: Annotated[str, Form()] = "", holder_document: Annotated[str, Form()] = "",
             forward_to: Annotated[str, Form()] = "", portal_login: Annotated[str, Form()] = "",
             portal_password: Annotated[str, Form()] = "", pdf_password: Annotated[str, Form()] = "") -> Response:
    """Register a unit owned by the logged-in integrator."""
    unit_in = _unit_create(installation=installation, uc_code=uc_code, client_name=client_name,
                           holder_document=holder_document, forward_to=forward_to, portal_login=portal_login,
                           portal_password=portal_password, pdf_password=pdf_password)
    unit = add_unit(session=session, app=web.app, integrator=user, unit_in=unit_in)
    message = "Unidade+cadastrada."
    if web.sandbox is not None and web.sandbox.unit_added(unit_in):
        message += "+Sandbox%3A+login+e+instala%C3%A7%C3%A3o+criados+no+simulador."
    return RedirectResponse(f"/unidades/{unit.id}?msg={message}", status_code=303)


@router.get("/unidades/importar")
def import_form(request: Request, user: UserDep) -> Response:
    """The CSV import page."""
    return page(request, "import.html", {"user": user, "report": None})


@router.post("/unidades/importar", dependencies=[CsrfDep])
async def import_file(request: Request, web: WebDep, user: UserDep,
                      arquivo: Annotated[UploadFile, File()]) -> Response:
    """Import units from a CSV and show the per-row report."""
    # Read at most one byte past the limit: a bigger file is refused without being held whole in memory.
    report = import_csv(app=web.app, integrator=user, data=await arquivo.read(MAX_CSV_BYTES + 1))
    return page(request, "import.html", {"user": user, "report": report})


def render_unit(request: Request, *, session: Session, web: WebContext, user: Integrator, unit: Unit,
                uploaded: list[ImportResult] | None = None) -> HTMLResponse:
    """The unit page: settings, adhesion, bills with their forwards, and (sandbox) the client's mailbox."""
    invoices = invoices_of(session=session, unit=unit)
    alerts = unit_alerts(unit.id or 0, monthly_rows(invoices), adhesion_status=unit.adhesion_status,
                         limits=thresholds(web.app.settings),
                         payee_mismatches=payee_mismatches(session=session, unit_id=unit.id or 0))
    return page(request, "unit.html", {
        "user": user, "unit": unit, "adhesion": adhesion_view(session=session, unit=unit, runner=web.runner),
        "alerts": alerts,
        "invoices": invoices, "forwards": forwards_by_invoice(session=session, invoices=invoices),
        "uploaded": uploaded,
        "client_mail": web.sandbox.client_messages(list(unit.forward_to)) if web.sandbox is not None else None})


@router.get("/unidades/{unit_id}")
def unit_page(request: Request, session: SessionDep, web: WebDep, user: UserDep, unit_id: UnitId) -> Response:
    """The unit: settings ("Cadastrar e-mail"), adhesion, bills."""
    unit = own_unit(session=session, integrator=user, unit_id=unit_id)
    return render_unit(request, session=session, web=web, user=user, unit=unit)


@router.post("/unidades/{unit_id}/cadastrar-email", dependencies=[CsrfDep])
def save_email_settings(session: SessionDep, web: WebDep, user: UserDep, unit_id: UnitId,
                        forward_to: Annotated[str, Form()] = "", email_bills_enabled: Annotated[str, Form()] = "",
                        pdf_password: Annotated[str, Form()] = "", clear_pdf_password: Annotated[str, Form()] = "",
                        portal_login: Annotated[str, Form()] = "", portal_password: Annotated[str, Form()] = ""
                        ) -> Response:
    """Save the "Cadastrar e-mail" dialog; blank secrets keep what is stored."""
    unit = own_unit(session=session, integrator=user, unit_id=unit_id)
    change_unit(session=session, app=web.app, unit=unit, unit_in=email_settings_update(
        forward_to=forward_to, email_bills_enabled=bool(email_bills_enabled), pdf_password=pdf_password,
        clear_pdf_password=bool(clear_pdf_password), portal_login=portal_login, portal_password=portal_password))
    return RedirectResponse(f"/unidades/{unit_id}?msg=Configura%C3%A7%C3%B5es+salvas.", status_code=303)


@router.post("/unidades/{unit_id}/aderir", dependencies=[CsrfDep])
def adhere(session: SessionDep, web: WebDep, user: UserDep, unit_id: UnitId) -> Response:
    """Queue the automatic adhesion of the unit."""
    unit = own_unit(session=session, integrator=user, unit_id=unit_id)
    queued = web.runner.queue(session=session, unit=unit)
    message = "Ades%C3%A3o+iniciada." if queued else "A+ades%C3%A3o+j%C3%A1+est%C3%A1+em+andamento."
    return RedirectResponse(f"/unidades/{unit_id}?msg={message}#aderir", status_code=303)


@router.get("/unidades/{unit_id}/adesao")
def adhesion_status(session: SessionDep, web: WebDep, user: UserDep, unit_id: UnitId) -> Response:
    """The live adhesion status (polled by the unit page)."""
    unit = own_unit(session=session, integrator=user, unit_id=unit_id)
    view = adhesion_view(session=session, unit=unit, runner=web.runner)
    return JSONResponse({"status": view.status, "label": labels.STATUS_LABELS[view.status],
                         "next_actor": labels.ACTOR_LABELS[view.next_actor], "step": view.step,
                         "step_label": labels.step_label(view.step),
                         "message": view.message_pt, "running": view.running, "final": view.final,
                         "action": labels.ACTIONS.get(view.status)})


@router.get("/unidades/{unit_id}/tentativas/{attempt_id}/captura.png")
def screenshot(session: SessionDep, web: WebDep, user: UserDep, unit_id: UnitId,
               attempt_id: Annotated[int, Path(ge=1, le=2_147_483_647)]) -> Response:
    """The failure screenshot of an attempt, decrypted on the fly for the unit's owner only."""
    unit = own_unit(session=session, integrator=user, unit_id=unit_id)
    blob = screenshot_blob(session=session, unit=unit, attempt_id=attempt_id)
    if blob is None:
        raise NotFound(f"no screenshot for attempt {attempt_id}")
    return Response(web.blobs.get(blob, keys=web.app.keys()), media_type="image/png",
                    headers={"Cache-Control": "private, no-store"})
