"""Pages: bill PDFs, uploads of earlier bills, the detailed report (HTML, CSV, print)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Request, UploadFile
from fastapi.responses import Response

from web.deps import CsrfDep, SessionDep, UserDep, WebDep
from web.render import page
from web.routes.units import render_unit
from web.services.invoices import invoice_pdf, invoices_of, own_invoice, pdf_filename, upload_bills
from web.services.report_pdf import report_pdf
from web.services.reports import charts, month_label, monthly_rows, report_csv
from web.services.units import own_unit

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]


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


def _report(session, user, unit_id: int):  # noqa: ANN001, ANN202 - local helper
    unit = own_unit(session=session, integrator=user, unit_id=unit_id)
    return unit, monthly_rows(invoices_of(session=session, unit=unit))


@router.get("/unidades/{unit_id}/relatorio")
def report(request: Request, session: SessionDep, user: UserDep, unit_id: Id) -> Response:
    """The detailed report: monthly table and charts; printable."""
    unit, rows = _report(session, user, unit_id)
    return page(request, "report.html", {"user": user, "unit": unit, "rows": rows, "charts": charts(rows),
                                         "month_label": month_label})


@router.get("/unidades/{unit_id}/relatorio.csv")
def report_csv_download(session: SessionDep, user: UserDep, unit_id: Id) -> Response:
    """The report's monthly table as CSV."""
    unit, rows = _report(session, user, unit_id)
    return Response(report_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="relatorio-unidade-{unit.id}.csv"'})


@router.get("/unidades/{unit_id}/relatorio.pdf")
def report_pdf_download(session: SessionDep, user: UserDep, unit_id: Id) -> Response:
    """The report as a PDF."""
    unit, rows = _report(session, user, unit_id)
    return Response(report_pdf(unit, rows), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="relatorio-unidade-{unit.id}.pdf"'})
