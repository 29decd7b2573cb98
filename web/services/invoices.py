"""An integrator's bills: listing, one bill, its PDF, and uploads through the processor's import path."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from sqlmodel import Session

from config.context import AppContext
from config.wiring import build_pipeline
from processor.uploads import ImportResult, import_files
from storage.blobs import Blobs
from storage.invoices import forwards_of, list_invoices
from storage.mail_models import Forward, Invoice
from storage.models import Unit
from storage.web_models import Integrator
from web.errors import NotFound, UploadRejected

MAX_UPLOAD_BYTES = 15 * 1024 * 1024
MAX_UPLOAD_FILES = 24


def invoices_of(*, session: Session, unit: Unit) -> list[Invoice]:
    """The unit's current bills, newest month first."""
    return list_invoices(session=session, unit_id=unit.id)


def forwards_by_invoice(*, session: Session, invoices: list[Invoice]) -> dict[int, list[Forward]]:
    """Each bill's forwards (recipient and outbox state), for the "Encaminhamento" column."""
    found: dict[int, list[Forward]] = {}
    for forward in forwards_of(session=session, invoice_ids=[i.id for i in invoices if i.id is not None]):
        found.setdefault(forward.invoice_id, []).append(forward)
    return found


def own_invoice(*, session: Session, integrator: Integrator, invoice_id: int) -> tuple[Invoice, Unit]:
    """A bill of one of the integrator's units; NotFound otherwise (also for guessed ids)."""
    invoice = session.get(Invoice, invoice_id)
    unit = session.get(Unit, invoice.unit_id) if invoice is not None else None
    if invoice is None or unit is None or unit.integrator_id != integrator.id:
        raise NotFound(f"no invoice {invoice_id} for this integrator")
    return invoice, unit


def invoice_pdf(*, blobs: Blobs, invoice: Invoice) -> bytes:
    """The original PDF bytes as received."""
    return blobs.get(invoice.pdf_sha256)


def pdf_filename(invoice: Invoice) -> str:
    """A safe download name."""
    name = invoice.pdf_filename or f"fatura-{invoice.reference_month}.pdf"
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def upload_bills(*, app: AppContext, unit: Unit, files: list[tuple[str, bytes]]) -> list[ImportResult]:
    """Store earlier bills of a unit (several PDFs at once) via unlock → parse → store, source `upload`."""
    if not files:
        raise UploadRejected("no file", user_message="Escolha ao menos um arquivo PDF.")
    if len(files) > MAX_UPLOAD_FILES:
        raise UploadRejected("too many files", user_message=f"Envie no máximo {MAX_UPLOAD_FILES} arquivos por vez.")
    with tempfile.TemporaryDirectory(prefix="faturas-upload-") as tmp:
        paths = []
        for index, (name, data) in enumerate(files):
            if len(data) > MAX_UPLOAD_BYTES:
                raise UploadRejected("file too large", user_message=f"O arquivo {name} passa de 15 MB.")
            safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name or "fatura.pdf").name)[:100] or "fatura.pdf"
            path = Path(tmp) / f"{index:02d}-{safe}"
            path.write_bytes(data)
            paths.append(path)
        results = import_files(build_pipeline(app), unit_ref=str(unit.id), paths=paths)
    # Report the names as the integrator sent them, without our temporary folder.
    return [ImportResult(file=name, outcome=r.outcome, status=r.status, invoice_id=r.invoice_id,
                         reference_month=r.reference_month, error=_friendly(r.error))
            for (name, _), r in zip(files, results, strict=True)]


def _friendly(error: str | None) -> str | None:
    if error is None:
        return None
    kind = error.split(":", 1)[0]
    return {
        "BillUnreadable": "O arquivo não é uma fatura legível.",
        "BillLocked": "O PDF está protegido por senha: cadastre a senha do PDF em Cadastrar e-mail.",
    }.get(kind, "Não foi possível ler a fatura.")
