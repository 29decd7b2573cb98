"""Scans and photos: image-only PDFs and JPEG/PNG uploads are read by OCR (Tesseract, Portuguese).

Every real sample is rasterised, tilted, blurred and JPEG-grained (tests/processor/parse/photos.py) and
read through the upload path (`processor.uploads.parse_file`: JPEG/PNG → image PDF → unlock → OCR). The
installation (or UC code), reference month, due date and amount must be right on at least 90 % of them,
compared with the same sample's text-layer parse. The two published samples whose values were overlaid by
hand (`EDITED`) are left out: their text layer and their picture disagree, so neither is the truth.
"""

from __future__ import annotations

import time

import pytest

from processor.bill import read_bill
from processor.errors import BillUnreadable
from processor.parse import ocr
from processor.parse.ocr_fields import read_ocr_bill
from processor.parse.registry import PARSERS
from processor.parse.text import pdf_text
from processor.types import UnlockedPdf
from processor.uploads import parse_file
from tests.processor.parse.photos import ANGLES, as_png, image_only_pdf, photo_like, rasterise
from tests.processor.parse.test_cemig_golden import EDITED, STEMS, needs_samples, needs_samples_2026
from tests.samples import sample_path

KEY_FIELDS = ("installation_or_uc", "reference_month", "due_date", "amount_due")
PHOTO_STEMS = [stem for stem in STEMS if stem not in EDITED]


def _key(bill) -> dict:
    return {"installation_or_uc": bill.installation or bill.uc_code, "reference_month": bill.reference_month,
            "due_date": bill.due_date, "amount_due": bill.amount_due}


def _unlocked(data: bytes) -> UnlockedPdf:
    return UnlockedPdf(filename="foto.pdf", original=data, readable=data)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pages")
    return {stem: rasterise(sample_path(stem), folder) for stem in PHOTO_STEMS}


@needs_samples
@needs_samples_2026
def test_photos_of_the_samples_yield_the_key_fields(pages, tmp_path):
    """≥ 90 % of photo-like copies give all four key fields right; each field read carries a confidence."""
    right, wrong, seconds = [], {}, []
    for index, stem in enumerate(PHOTO_STEMS):
        truth = _key(PARSERS["cemig"](pdf_text(sample_path(stem).read_bytes())))
        jpeg = photo_like(pages[stem], angle=ANGLES[index % len(ANGLES)])
        kind = ("jpg", "png", "pdf")[index % 3]
        path = tmp_path / f"{stem}.{kind}"
        path.write_bytes({"jpg": jpeg, "png": as_png(jpeg) if kind == "png" else b"",
                          "pdf": image_only_pdf(jpeg) if kind == "pdf" else b""}[kind])
        started = time.monotonic()
        try:
            bill = parse_file(path)
        except BillUnreadable as exc:
            wrong[stem] = str(exc)
            continue
        finally:
            seconds.append(time.monotonic() - started)
        assert bill.layout == "ocr"
        for name, value in bill.model_dump().items():
            if name in bill.sources and name != "barcode":
                assert value is not None and 0 < bill.confidence[name] <= 1, (stem, name)
        got = _key(bill)
        if got == truth:
            right.append(stem)
        else:
            wrong[stem] = {name: (got[name], truth[name]) for name in KEY_FIELDS if got[name] != truth[name]}
    share = len(right) / len(PHOTO_STEMS)
    print(  # noqa: T201 - the figures, shown with -s
        f"OCR: {len(right)}/{len(PHOTO_STEMS)} right, {sum(seconds) / len(seconds):.2f} s/page; wrong: {wrong}")
    assert share >= 0.9, wrong


@pytest.fixture(scope="module")
def sample_page(tmp_path_factory):
    """One sample's page, for the tests that need a single photo (rasterising all takes ~25 s)."""
    return lambda stem: rasterise(sample_path(stem), tmp_path_factory.mktemp(stem))


@needs_samples
def test_a_cross_checked_photo_is_parsed_and_a_doctored_one_needs_review(sample_page):
    photo = image_only_pdf(photo_like(sample_page("3004298116-05-2023"), angle=1.0))
    whole = read_bill(_unlocked(photo), utility="cemig", installations=("3004298116",))
    assert whole.bill.checks["amount_matches_barcode"] is True
    assert not whole.needs_review, whole.review_reasons
    assert whole.bill.sources["amount_due"] == "ocr" and whole.bill.confidence["amount_due"] > 0.5
    # The published sample whose total was overlaid by hand: its barcode does not carry the printed total.
    photo = image_only_pdf(photo_like(sample_page("fatura_cemig"), angle=2.0))
    doctored = read_bill(_unlocked(photo), utility="cemig")
    assert doctored.bill.amount_due is not None
    assert doctored.needs_review and "amount_matches_barcode" in doctored.review_reasons


@needs_samples
def test_ocr_has_a_deadline(sample_page):
    pages = [sample_page("3004298116-05-2023")] * 2
    started = time.monotonic()
    with pytest.raises(ocr.OcrFailed, match="OCR took over"):
        ocr.ocr_images(pages, deadline_s=2.5)
    assert time.monotonic() - started < 2.5 + 3  # one page's cleaning may run past the deadline, not Tesseract


def test_deskew_finds_the_tilt():
    from PIL import Image, ImageDraw

    page = Image.new("L", (1200, 1600), 255)
    draw = ImageDraw.Draw(page)
    for row in range(40, 1560, 36):
        draw.rectangle((80, row, 1120, row + 12), fill=0)
    tilted = page.rotate(-2.5, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    assert abs(ocr.skew_angle(tilted) - 2.5) <= 0.25


def test_a_blank_scan_is_unreadable_with_a_message():
    from PIL import Image

    blank = Image.new("L", (1240, 1754), 255)
    import io

    out = io.BytesIO()
    blank.save(out, "PDF", resolution=150)
    with pytest.raises(BillUnreadable) as caught:
        read_bill(_unlocked(out.getvalue()), utility="cemig")
    assert "OCR" in caught.value.user_message or "imagem" in caught.value.user_message


def test_an_image_bomb_is_refused_before_decoding(tmp_path):
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 8000, 8000, 8, 0, 0, 0, 0)  # 64 MP: over our 60, under Pillow's own guard
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    path = tmp_path / "bomb.png"
    path.write_bytes(png)
    with pytest.raises(BillUnreadable, match="too large"):
        parse_file(path)


def test_ocr_fields_are_none_when_two_places_disagree():
    text = ("Código de Débito Automático Instalação Vencimento Total a pagar\n"
            "008118741548 3004298116 12/06/2023 R$158,17\n"
            "Vencimento\n13/06/2023\nReferente a\nMAI/2023\n")
    spans, position = [], 0
    for word in text.replace("\n", " ").split(" "):
        spans.append((position, position + len(word), 90.0))
        position += len(word) + 1
    bill = read_ocr_bill(ocr.OcrText(text=text, spans=spans))
    assert bill.due_date is None and bill.installation == "3004298116" and bill.reference_month == "2023-05"
    assert bill.confidence["installation"] == 0.9 and "due_date" not in bill.confidence
    assert bill.checks["amount_matches_barcode"] is False
