"""OCR of image-only bills (scans, phone photos): pages to words with their confidences, with Tesseract.

Pages are rendered by PDFium (`processor.parse.text`'s lock held), cleaned (grey, small photos enlarged,
autocontrast with the darkest and lightest 1 % clipped, which drops JPEG ringing and paper tint),
deskewed (the angle whose rows of ink are sharpest, a projection profile, within ±6°) and read by
Tesseract with its Portuguese model (Debian `tesseract-ocr-por`) through pytesseract. Words come back
grouped into Tesseract's lines, each with a confidence (0–100), so a field read from a span of the text
carries the lowest confidence of the words it covers (`OcrText.confidence`).

Bounded: at most `MAX_PAGES` pages (a bill is one or two; a 40-page scan is not OCRed to the end), at most
`MAX_SIDE_PX` pixels on a page's longest side (a huge MediaBox is rendered smaller, not into gigabytes), and
one overall deadline shared by the pages, enforced on each Tesseract process (killed when it passes). This
runs inside the PDF reader child (processor.isolate) when the pipeline reads bills, under its memory limit.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytesseract
from PIL import Image, ImageOps

from processor.parse import text as pdf_text_module
from processor.parse.errors import BillUnreadable

LANGUAGE = "por"
DPI = 300
MAX_PAGES = 2
MAX_SIDE_PX = 4200
DEADLINE_S = 40.0
"""All pages of one bill; below the PDF reader's own timeout (processor.config `pdf_timeout_s`, 60 s)."""
MAX_SKEW_DEGREES = 6.0


class OcrFailed(BillUnreadable):
    """Tesseract could not read the page (missing, timed out, crashed)."""

    user_message = ("A fatura é uma imagem (digitalizada ou fotografada) e não pôde ser lida por OCR; "
                    "envie um PDF original da CEMIG ou uma foto mais nítida.")


@dataclass
class OcrText:
    """The recognised text, lines joined by newlines, and each word's character span with its confidence."""

    text: str = ""
    spans: list[tuple[int, int, float]] = field(default_factory=list)
    pages: int = 0
    seconds: float = 0.0

    def confidence(self, start: int, end: int) -> float | None:
        """The lowest confidence (0–1) of the words overlapping text[start:end]; None when no word does."""
        found = [conf for a, b, conf in self.spans if a < end and b > start]
        return round(min(found) / 100, 2) if found else None


def render_pages(data: bytes, *, dpi: int = DPI, max_pages: int = MAX_PAGES) -> list[Image.Image]:
    """The first `max_pages` pages of an unlocked PDF as greyscale images."""
    with pdf_text_module.open_document(data) as document:
        images = []
        for index in range(min(len(document), max_pages)):
            page = document[index]
            try:
                images.append(_embedded_image(page) or _rendered(page, dpi))
            finally:
                page.close()
        return images


def _rendered(page: pdfium.PdfPage, dpi: int) -> Image.Image:
    width, height = page.get_size()
    scale = min(dpi / 72, MAX_SIDE_PX / max(width, height, 1))
    return page.render(scale=scale, grayscale=True).to_pil().convert("L")


def _embedded_image(page: pdfium.PdfPage) -> Image.Image | None:
    """The page's one picture at its own resolution (a scan or a photo saved as PDF), else None.

    Rendering it at 300 dpi resamples the photo once more, and that blur cost digits (a due date read as
    ``2/2023``); the stored pixels are the sharpest the bill will be.
    """
    images = [obj for obj in page.get_objects(max_depth=1) if obj.type == pdfium_raw.FPDF_PAGEOBJ_IMAGE]
    if len(images) != 1:
        return None
    width, height = images[0].get_px_size()
    if not 1000 <= max(width, height) <= MAX_SIDE_PX * 2 or width * height > 40_000_000:
        return None
    try:
        picture = images[0].get_bitmap(render=False).to_pil().convert("L")
    except pdfium.PdfiumError:
        return None
    rotation = page.get_rotation()
    return picture.rotate(-rotation, expand=True) if rotation else picture


def _sharpness(image: Image.Image) -> float:
    """The variance of the rows' ink: highest when text lines are horizontal."""
    column = image.resize((1, image.height), Image.Resampling.BOX)
    rows = [float(v) for v in column.get_flattened_data()]  # type: ignore[arg-type]  # mode L: ints
    mean = sum(rows) / len(rows)
    return sum((value - mean) ** 2 for value in rows)


def skew_angle(image: Image.Image) -> float:
    """The rotation (degrees, counter-clockwise) that makes the text lines horizontal, to the nearest 0.25°."""
    small = image.copy()
    small.thumbnail((900, 900))
    ink = ImageOps.invert(small.point(lambda v: 255 if v > 160 else 0))

    def score(angle: float) -> float:
        return _sharpness(ink.rotate(angle, resample=Image.Resampling.NEAREST, fillcolor=0))

    coarse = max((a / 2 for a in range(int(-2 * MAX_SKEW_DEGREES), int(2 * MAX_SKEW_DEGREES) + 1)), key=score)
    fine = max((coarse + a / 4 for a in (-1, 0, 1)), key=score)
    return fine


def prepare(image: Image.Image) -> Image.Image:
    """Grey, contrast-stretched (denoised) and deskewed; small images are enlarged to ~300 dpi for A4."""
    grey = image.convert("L")
    if max(grey.size) < 2400:
        factor = 3300 / max(grey.size)
        grey = grey.resize((round(grey.width * factor), round(grey.height * factor)), Image.Resampling.LANCZOS)
    # No median filter: on bills photographed at ~300 dpi it erased thin digits (the installation number)
    # more often than it removed noise; Tesseract's own Otsu threshold handles the JPEG grain.
    grey = ImageOps.autocontrast(grey, cutoff=1)
    angle = skew_angle(grey)
    if abs(angle) >= 0.25:
        grey = grey.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    return grey


def _words(image: Image.Image, timeout_s: float) -> list[list[tuple[str, float]]]:
    """Tesseract's lines of (word, confidence) for one page."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one core per read: the worker's other bills wait otherwise
    try:
        data = pytesseract.image_to_data(image, lang=LANGUAGE, config="--psm 3", timeout=max(timeout_s, 1.0),
                                         output_type=pytesseract.Output.DICT)
    except RuntimeError as exc:  # pytesseract's timeout (the process is killed)
        raise OcrFailed(f"OCR took over {timeout_s:.0f}s: abandoned") from exc
    except (pytesseract.TesseractError, pytesseract.TesseractNotFoundError, OSError) as exc:
        raise OcrFailed(f"tesseract failed: {str(exc)[:200]}") from exc
    lines: dict[tuple[int, int, int], list[tuple[str, float]]] = {}
    for index, word in enumerate(data["text"]):
        word = word.strip()
        if not word:
            continue
        key = (data["block_num"][index], data["par_num"][index], data["line_num"][index])
        lines.setdefault(key, []).append((word, max(float(data["conf"][index]), 0.0)))
    return [lines[key] for key in sorted(lines)]


def ocr_images(images: list[Image.Image], *, deadline_s: float = DEADLINE_S) -> OcrText:
    """The text of `images` (pages, in order), each word with its confidence."""
    started = time.monotonic()
    result = OcrText()
    parts: list[str] = []
    position = 0
    for image in images[:MAX_PAGES]:
        remaining = deadline_s - (time.monotonic() - started)
        if remaining <= 1:
            raise OcrFailed(f"OCR took over {deadline_s:.0f}s: abandoned")
        for line in _words(prepare(image), remaining):
            for word, conf in line:
                result.spans.append((position, position + len(word), conf))
                parts.append(word)
                parts.append(" ")
                position += len(word) + 1
            parts[-1] = "\n"
        result.pages += 1
    result.text = "".join(parts)
    result.seconds = time.monotonic() - started
    if not result.text.strip():
        raise OcrFailed("OCR found no text on the page")
    return result


def ocr_pdf(data: bytes, *, deadline_s: float = DEADLINE_S) -> OcrText:
    """OCR of an image-only PDF's first pages."""
    return ocr_images(render_pages(data), deadline_s=deadline_s)


def image_to_pdf(data: bytes, *, max_pixels: int = 60_000_000) -> bytes:
    """A JPEG/PNG upload as a one-page image-only PDF (stored and forwarded like any bill, read by OCR).

    The size is checked from the header before the pixels are decoded: an image bomb is refused.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("JPEG", "PNG"):
                raise BillUnreadable(f"image format {image.format} is not accepted (JPEG or PNG)")
            if image.width * image.height > max_pixels:
                raise BillUnreadable(f"image of {image.width}x{image.height} pixels is too large")
            page = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise BillUnreadable(f"the image cannot be decoded: {exc}") from exc
    out = io.BytesIO()
    # An A4 page at the photo's size: 300 dpi for a scan of 2480 px wide, lower for smaller photos.
    page.save(out, "PDF", resolution=max(page.width / 8.27, 72.0))
    return out.getvalue()
