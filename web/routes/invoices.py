"""Pages: bill PDFs, uploads of earlier bills, the detailed report (HTML, CSV, print)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from reports.export import report_csv, report_xlsx
from reports.pdf import client_report_pdf, report_pdf
from storage.generation import set_expected_generation
from web.deps import CsrfDep, SessionDep, UserDep, WebDep
from web.render import page
from web.routes.units import render_unit
from web.services.invoices import invoice_pdf, own_invoice, pdf_filename, upload_bills
from web.services.report_view import client_report_view, unit_report_view
from web.services.units import own_unit

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/faturas/{invoice_id}/pdf")
def download_pdf(session: SessionDep, web: WebDep, user: UserDep, invoice_id: Id) -> Response:
    """The bill's original PDF, for the owner of its unit only."""
    invoice, _ = own_invoice(session=session, integrator=user, invoice_id=invoice_id)
    return Response(invoice_pdf(blobs=web.blobs, invoice=invoice), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{pdf_filename(invoice)}"',
                             "Cache-Control": "private, no-store"})


@router.post("/unidades/{unit_id}/faturas", dependencies=[CsrfDep])
async def upload(request: Request, session: SessionDep, web: WebDep, user: UserDep, unit_id: Id,
                 arquivos: Annotated[list[UploadFile], File()]) -> Response:
    """Upload earlier bills (several PDFs at once) and show what happened to each."""
    unit = own_unit(session=session, integrator=user, unit_id=unit_id)
    session.commit()  # the import stores bills in its own sessions
    files = [(f.filename or "fatura.pdf", await f.read()) for f in arquivos if f.filename]
    results = upload_bills(app=web.app, unit=unit, files=files)
    session.expire_all()
    return render_unit(request, session=session, web=web, user=user, unit=unit, uploaded=results)


@router.get("/unidades/{unit_id}/relatorio")
def report(request: Request, session: SessionDep, web: WebDep, user: UserDep, unit_id: Id) -> Response:
    """The detailed report: summary, alerts, charts and the monthly table; printable."""
    view = unit_report_view(session=session, settings=web.app.settings, integrator=user, unit_id=unit_id)
    return page(request, "report.html", {"user": user, "view": view})


@router.post("/unidades/{unit_id}/geracao-esperada", dependencies=[CsrfDep])
def save_expected_generation(session: SessionDep, user: UserDep, unit_id: Id,
                             geracao: Annotated[str, Form(max_length=400)] = "") -> Response:
    """Register the unit's expected monthly generation (1 value, or 12 from January); blank removes it."""
    unit = own_unit(session=session, integrator=user, unit_id=unit_id)
    set_expected_generation(session=session, unit_id=unit.id or 0, values=re.split(r"[;\n]", geracao))
    return RedirectResponse(f"/unidades/{unit_id}/relatorio?msg=Gera%C3%A7%C3%A3o+esperada+salva.",
                            status_code=303)


@router.get("/unidades/{unit_id}/cliente")
def client_report(request: Request, session: SessionDep, web: WebDep, user: UserDep, unit_id: Id) -> Response:
    """The report of the unit's client: every unit of the same holder together, with a per-unit breakdown."""
    view = client_report_view(session=session, settings=web.app.settings, integrator=user, unit_id=unit_id)
    return page(request, "client_report.html", {"user": user, "view": view})


@router.get("/unidades/{unit_id}/relatorio.csv")
def report_csv_download(session: SessionDep, web: WebDep, user: UserDep, unit_id: Id) -> Response:
    """The report's monthly table as CSV."""
    view = unit_report_view(session=session, settings=web.app.settings, integrator=user, unit_id=unit_id)
    return Response(report_csv(view.rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="relatorio-unidade-{unit_id}.csv"'})


@router.get("/unidades/{unit_id}/relatorio.xlsx")
def report_xlsx_download(session: SessionDep, web: WebDep, user: UserDep, unit_id: Id) -> Response:
    """The report's monthly table as an XLSX workbook."""
    view = unit_report_view(session=session, settings=web.app.settings, integrator=user, unit_id=unit_id)
    title = f"Relatório detalhado · {view.unit.client_name} · Instalação {view.unit.installation or view.unit.uc_code}"
    return Response(report_xlsx(view.rows, title=title), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="relatorio-unidade-{unit_id}.xlsx"'})


@router.get("/unidades/{unit_id}/relatorio.pdf")
def report_pdf_download(session: SessionDep, web: WebDep, user: UserDep, unit_id: Id) -> Response:
    """The report as a PDF, with the same figures as the page."""
    view = unit_report_view(session=session, settings=web.app.settings, integrator=user, unit_id=unit_id)
    return Response(report_pdf(view), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="relatorio-unidade-{unit_id}.pdf"'})


@router.get("/unidades/{unit_id}/cliente.pdf")
def client_report_pdf_download(session: SessionDep, web: WebDep, user: UserDep, unit_id: Id) -> Response:
    """The client's report (every unit of the holder) as a PDF, with the same figures as the client page."""
    view = client_report_view(session=session, settings=web.app.settings, integrator=user, unit_id=unit_id)
    return Response(client_report_pdf(view), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="relatorio-cliente-{unit_id}.pdf"'})
