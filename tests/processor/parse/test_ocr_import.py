"""A phone photo imported as a unit's earlier bill: JPEG → image PDF → OCR in the limited PDF reader → stored.

The real upload path (`processor.uploads.import_files`, used by `faturas invoices import`, the dashboard and
the API), with the pipeline's reader child (processor.isolate: memory limit and timeout), on both databases.
"""

from __future__ import annotations

import pytest

from processor.uploads import import_files
from storage.engine import session_scope
from storage.mail_models import Invoice
from tests.processor.parse.photos import photo_like, rasterise
from tests.processor.parse.test_cemig_golden import needs_samples
from tests.samples import sample_path

pytestmark = pytest.mark.integration


@needs_samples
def test_a_photo_is_stored_as_a_bill_read_by_ocr(world, tmp_path):
    assert world.settings.pdf_memory_limit_mb > 0  # the read goes through the isolated reader
    unit = world.add_unit(installation="3004298116")
    photo = tmp_path / "conta-maio.jpg"
    photo.write_bytes(photo_like(rasterise(sample_path("3004298116-05-2023"), tmp_path), angle=-1.5))
    (result,) = import_files(world.pipeline(), unit_ref=str(unit.id), paths=[photo])
    assert (result.outcome, result.reference_month, result.error) == ("new", "2023-05", None)
    with session_scope(world.engine) as session:
        invoice = session.get(Invoice, result.invoice_id)
        assert invoice.pdf_filename == "conta-maio.pdf"
        assert world.blobs.get(invoice.pdf_sha256).startswith(b"%PDF-")
        assert invoice.due_date.isoformat() == "2023-06-12"
    assert result.status == "parsed"  # the amount cross-checked with the linha digitável


@needs_samples
def test_a_file_that_is_neither_pdf_nor_image_fails_with_a_message(world, tmp_path):
    unit = world.add_unit(installation="3004298116")
    path = tmp_path / "conta.txt"
    path.write_bytes(b"not a bill")
    (result,) = import_files(world.pipeline(), unit_ref=str(unit.id), paths=[path])
    assert result.outcome == "failed" and "neither a PDF nor a JPEG/PNG" in result.error
