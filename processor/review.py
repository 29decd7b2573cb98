"""A stored bill read again for a person: its unlocked PDF, its text and its first page as an image.

The review screen and `faturas invoices export-fixture` need what the pipeline saw. The blob store keeps the
PDF as received (possibly encrypted), so it is unlocked again with the unit's password and the utility's
candidate rules, exactly as the pipeline does. The bill passed through the isolated PDF reader when it
arrived, so reading it here, in-process, reads a document already known to open.
"""

from __future__ import annotations

from processor.parse.text import first_page_png, pdf_text
from processor.pipeline import Pipeline, _passwords
from processor.types import PdfPart
from processor.unlock import unlock
from storage.mail_models import Invoice
from storage.models import Unit


def readable_pdf(*, pipeline: Pipeline, unit: Unit, invoice: Invoice) -> bytes:
    """The bill's PDF, decrypted when it came encrypted. Raises BillLocked / BillUnreadable."""
    part = PdfPart(filename=invoice.pdf_filename, data=pipeline.blobs.get(invoice.pdf_sha256))
    return unlock(part, passwords=_passwords(pipeline, unit)).readable


def bill_text(*, pipeline: Pipeline, unit: Unit, invoice: Invoice) -> str:
    """The text layer the parsers read (pages joined by form feeds)."""
    return pdf_text(readable_pdf(pipeline=pipeline, unit=unit, invoice=invoice))


def page_image(*, pipeline: Pipeline, unit: Unit, invoice: Invoice) -> bytes:
    """The bill's first page as a PNG."""
    return first_page_png(readable_pdf(pipeline=pipeline, unit=unit, invoice=invoice))
