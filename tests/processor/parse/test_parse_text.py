"""PDF bytes to text with pypdfium2, and pdfium's failures turned into BillUnreadable."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

from processor.parse.errors import BillError, BillUnreadable
from processor.parse.text import pdf_text
from tests.samples import SAMPLES


def make_pdf(*lines: str) -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=(595, 842), invariant=1)
    for number, line in enumerate(lines):
        page.drawString(40, 800 - 14 * number, line)
    page.showPage()
    page.save()
    return out.getvalue()


def encrypt(pdf: bytes, password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=password, owner_password=password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_text_lines_in_order_with_newlines():
    text = pdf_text(make_pdf("Nº DA INSTALAÇÃO", "Valor a pagar (R$) 1.234,56"))
    assert text.split("\n")[:2] == ["Nº DA INSTALAÇÃO", "Valor a pagar (R$) 1.234,56"]
    assert "\r" not in text


@pytest.mark.parametrize("data", [b"", b"not a pdf at all", make_pdf("x")[:200]])
def test_corrupt_or_truncated_bytes(data):
    with pytest.raises(BillUnreadable, match="pdfium could not open") as raised:
        pdf_text(data)
    assert isinstance(raised.value, BillError)
    assert raised.value.__cause__ is not None
    assert raised.value.user_message.startswith("O PDF da fatura")


def test_a_pdf_without_text():
    with pytest.raises(BillUnreadable, match="no text layer"):
        pdf_text(make_pdf())


def test_a_still_encrypted_pdf():
    with pytest.raises(BillUnreadable):
        pdf_text(encrypt(make_pdf("secret"), "1234"))


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"the real CEMIG sample bills are not at {SAMPLES}")
def test_a_real_bill_has_its_labels():
    text = pdf_text((SAMPLES / "3000055479-06-2023.pdf").read_bytes())
    assert "Nº DA INSTALAÇÃO" in text
    assert "Referente a Vencimento Valor a pagar (R$)" in text


THREADED_READS = """
import sys, threading
sys.path.insert(0, {root!r})
from processor.parse.text import pdf_text
from tests.processor.mime import bill

pdfs = [bill(f"30000000{{n:02d}}", "2026-10").plain_pdf for n in range(1, 5)]
expected = [pdf_text(pdf) for pdf in pdfs]
failures = []

def read(pdf, want):
    for _ in range(60):
        if pdf_text(pdf) != want:
            failures.append("different text")

threads = [threading.Thread(target=read, args=pair) for pair in zip(pdfs, expected)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("ok" if not failures else failures[0])
"""


def test_threads_reading_pdfs_at_once_neither_crash_nor_mix_their_text():
    """PDFium is not thread-safe: without the lock in pdf_text this process dies of a segmentation fault
    (as two mail workers in one process did). A subprocess, so a crash fails this test, not the session."""
    import subprocess
    import sys

    root = str(Path(__file__).resolve().parents[3])
    result = subprocess.run([sys.executable, "-c", THREADED_READS.format(root=root)], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
