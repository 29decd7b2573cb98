"""Bills from files: `faturas invoices parse` (read only) and `faturas invoices import` (store, optionally forward).

The same unlock → parse → store path as e-mail, with source `upload`; forwarding only when asked. A JPEG or
PNG (a scan, a phone photo) is wrapped in a one-page PDF first (processor.parse.ocr.image_to_pdf): it is
stored and forwarded as a PDF like any bill, and read by OCR because it has no text layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import structlog

from processor.bill import read_bill
from processor.errors import BillRejected, BillUnreadable
from processor.extract import is_pdf
from processor.forward import queue_forwards
from processor.outbox import send_outbox
from processor.parse.errors import BillError
from processor.parse.ocr import image_to_pdf
from processor.parse.schema import Bill
from processor.pipeline import Pipeline, read_pdfs
from processor.store import store_bill
from processor.types import PdfPart
from processor.unlock import unlock
from storage.engine import session_scope
from storage.mail_models import Invoice
from storage.units import get_unit

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ImportResult:
    """One file's fate: `new`, `reissue`, `duplicate` or `failed` (with the reason), and the bill status."""

    file: str
    outcome: str
    status: str | None = None
    invoice_id: int | None = None
    reference_month: str | None = None
    error: str | None = None


_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def _part(path: Path) -> PdfPart:
    data = path.read_bytes()
    if data.startswith(_IMAGE_MAGIC):
        try:
            return PdfPart(filename=f"{path.stem}.pdf", data=image_to_pdf(data))
        except BillError as exc:
            raise BillUnreadable(f"{path.name}: {exc}", user_message="A imagem enviada não pôde ser aberta "
                                 "(use JPEG ou PNG de até 60 megapixels).") from exc
    if not is_pdf(data):
        raise BillUnreadable(f"{path.name} is neither a PDF nor a JPEG/PNG image",
                             user_message="O arquivo não é um PDF nem uma imagem JPEG/PNG.")
    return PdfPart(filename=path.name, data=data)


def parse_file(path: Path, *, utility: str = "cemig", passwords: tuple[str, ...] = ()) -> Bill:
    """The bill schema for one file; raises BillRejected (not a PDF, locked, unreadable)."""
    pdf = unlock(_part(path), passwords=[("given", p) for p in passwords])
    return read_bill(pdf, utility=utility).bill


def import_files(pipeline: Pipeline, *, unit_ref: str, paths: list[Path], forward: bool = False) -> list[ImportResult]:
    """Store earlier bills of one unit from files; forward them only with `forward`."""
    with session_scope(pipeline.engine) as session:
        unit = get_unit(session=session, ref=unit_ref)
    results: list[ImportResult] = []
    for path in paths:
        try:
            bills, failures = read_pdfs(pipeline, unit, [_part(path)])
            if not bills:
                raise failures[0]
        except (BillRejected, OSError) as exc:
            results.append(ImportResult(file=str(path), outcome="failed", error=f"{type(exc).__name__}: {exc}"))
            log.warning("bill_import_failed", unit_id=unit.id, file=path.name, error=type(exc).__name__)
            continue
        with session_scope(pipeline.engine) as session:
            fresh = session.get(type(unit), unit.id)
            stored = store_bill(session=session, blobs=pipeline.blobs, unit=fresh, read=bills[0], source="upload",
                                mail_message_id=None)
            if forward and stored.outcome != "duplicate" and not bills[0].payee_mismatch:
                invoice = session.get(Invoice, stored.invoice_id)
                queue_forwards(session=session, invoice=invoice, unit=fresh, settings=pipeline.settings)
        results.append(ImportResult(file=str(path), outcome=stored.outcome, status=stored.status,
                                    invoice_id=stored.invoice_id, reference_month=bills[0].bill.reference_month))
    if forward:
        send_outbox(engine=pipeline.engine, settings=pipeline.settings, blobs=pipeline.blobs, owner=pipeline.owner,
                    now=pipeline.now, dkim_key=pipeline.dkim_key)
    return results
