"""API: a unit's bills, one bill, its PDF, uploads of earlier bills."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Response, UploadFile

from storage.mail_models import Invoice
from web.api.schemas import InvoiceDetail, InvoiceOut, UploadOut
from web.api.units import ERRORS
from web.deps import ApiUserDep, SessionDep, WebDep
from web.services.invoices import invoice_pdf, invoices_of, own_invoice, pdf_filename, upload_bills
from web.services.units import own_unit

router = APIRouter(tags=["invoices"], responses=ERRORS)
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]


def _out(invoice: Invoice, model: type[InvoiceOut] = InvoiceOut) -> InvoiceOut:
    return model.model_validate(invoice, from_attributes=True)


@router.get("/units/{unit_id}/invoices", response_model=list[InvoiceOut])
def list_(session: SessionDep, user: ApiUserDep, unit_id: Id) -> list[InvoiceOut]:
    """The unit's current bills, newest month first."""
    unit = own_unit(session=session, integrator=user, unit_id=unit_id)
    return [_out(i) for i in invoices_of(session=session, unit=unit)]


@router.post("/units/{unit_id}/invoices", response_model=list[UploadOut], status_code=201)
async def upload(session: SessionDep, web: WebDep, user: ApiUserDep, unit_id: Id,
                 files: Annotated[list[UploadFile], File(description="Bill PDFs")]) -> list[UploadOut]:
    """Add earlier bills (PDFs) through unlock → parse → store; one result per file."""
    unit = own_unit(session=session, integrator=user, unit_id=unit_id)
    session.commit()  # the import stores bills in its own sessions
    data = [(f.filename or "fatura.pdf", await f.read()) for f in files]
    return [UploadOut(**r.__dict__) for r in upload_bills(app=web.app, unit=unit, files=data)]


@router.get("/invoices/{invoice_id}", response_model=InvoiceDetail)
def read(session: SessionDep, user: ApiUserDep, invoice_id: Id) -> InvoiceOut:
    """One bill with its parsed fields."""
    invoice, _ = own_invoice(session=session, integrator=user, invoice_id=invoice_id)
    return _out(invoice, InvoiceDetail)


@router.get("/invoices/{invoice_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "The original PDF"}})
def pdf(session: SessionDep, web: WebDep, user: ApiUserDep, invoice_id: Id) -> Response:
    """The bill's original PDF."""
    invoice, _ = own_invoice(session=session, integrator=user, invoice_id=invoice_id)
    return Response(invoice_pdf(blobs=web.blobs, invoice=invoice), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{pdf_filename(invoice)}"'})
