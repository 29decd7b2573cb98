"""Pages: bills waiting for review ("Revisar faturas"), one bill's review screen, and its first page as an image."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from config.wiring import build_pipeline
from processor.errors import BillRejected
from processor.parse.errors import BillError
from processor.review import page_image
from web.deps import CsrfDep, SessionDep, UserDep, WebDep
from web.render import page
from web.services.invoices import own_invoice
from web.services.review import FIELDS, review_queue, review_view, save_review

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get("/revisao")
def review_list(request: Request, session: SessionDep, user: UserDep) -> Response:
    """The integrator's bills waiting for a person, oldest month first."""
    return page(request, "review_list.html", {"user": user, "items": review_queue(session=session, integrator=user)})


@router.get("/faturas/{invoice_id}/revisao")
def review_screen(request: Request, session: SessionDep, user: UserDep, invoice_id: Id) -> Response:
    """The bill's first page beside the fields read from it, each with its source."""
    view = review_view(session=session, integrator=user, invoice_id=invoice_id)
    return page(request, "review.html", {"user": user, "view": view})


@router.post("/faturas/{invoice_id}/revisao", dependencies=[CsrfDep])
async def review_submit(request: Request, session: SessionDep, web: WebDep, user: UserDep,
                        invoice_id: Id) -> Response:
    """Confirm or correct the fields; the bill becomes `parsed`, or the form comes back with pt-BR errors."""
    form = await request.form()
    typed = {name: str(form.get(name) or "")[:100] for name, _, _ in FIELDS}
    invoice, errors = save_review(session=session, app=web.app, integrator=user, invoice_id=invoice_id, typed=typed)
    if invoice is None:
        view = review_view(session=session, integrator=user, invoice_id=invoice_id, typed=typed, errors=errors)
        return page(request, "review.html", {"user": user, "view": view}, status_code=422)
    return RedirectResponse(f"/revisao?msg=Fatura+de+{invoice.reference_month[5:]}%2F{invoice.reference_month[:4]}"
                            "+confirmada.", status_code=303)


@router.get("/faturas/{invoice_id}/pagina.png")
def review_page_image(session: SessionDep, web: WebDep, user: UserDep, invoice_id: Id) -> Response:
    """The first page of the bill, drawn as an image (the CSP allows no embedded PDF)."""
    invoice, unit = own_invoice(session=session, integrator=user, invoice_id=invoice_id)
    try:
        image = page_image(pipeline=build_pipeline(web.app), unit=unit, invoice=invoice)
    except (BillRejected, BillError):
        return Response(status_code=404, headers={"Cache-Control": "private, no-store"})
    return Response(image, media_type="image/png", headers={"Cache-Control": "private, no-store"})
