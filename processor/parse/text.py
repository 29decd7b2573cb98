"""PDF bytes to text, with pypdfium2: the one place where pdfium errors are translated.

PDFium is not thread-safe (pypdfium2's documentation says so, and two threads reading bills at once
crashed the process with a segmentation fault here): every call into it holds `_PDFIUM`. The lock is
the one piece of module state on purpose: it guards the C library's own process-wide state, so it
must be shared by every caller in the process (two mail workers in threads, the dashboard's upload
handler next to the in-process service).
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Iterator

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from processor.parse.errors import BillUnreadable, NoTextLayer

_PDFIUM = threading.Lock()


@contextlib.contextmanager
def open_document(data: bytes) -> Iterator[pdfium.PdfDocument]:
    """A PDFium document of `data`, held under `_PDFIUM` and closed after; BillUnreadable if PDFium refuses it."""
    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise BillUnreadable(f"pdfium could not open the PDF: {exc}") from exc
        try:
            yield document
        finally:
            document.close()


def pdf_text(data: bytes) -> str:
    """Return the text layer of an (already unlocked) PDF, pages joined by form feeds.

    Lines end with a newline. Raises BillUnreadable when pdfium cannot open the document (corrupt,
    truncated, still encrypted), NoTextLayer (a BillUnreadable) when no page carries any text (a scan).
    """
    with open_document(data) as document:
        pages = _pages(document)
    text = "\f".join(pages).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise NoTextLayer("the PDF has no text layer (an image-only scan?)")
    return text


_UNITS_PER_CHAR = 4
"""UTF-16 units a text-page character can add to the page's text at most: a line break (2) and the character (2
for one beyond the BMP). With one more for the terminating NUL, `_page_text`'s buffer always holds the page."""


def _pages(document: pdfium.PdfDocument) -> list[str]:
    """Each page's text; the caller holds `_PDFIUM` (open_document).

    PDFium's own calls rather than pypdfium2's page and text-page objects, whose bookkeeping (finalizers, parent
    links) costs under 1% of the extraction; each page is closed here, after its text page, before the document.
    """
    pages = []
    for index in range(len(document)):
        page = pdfium_c.FPDF_LoadPage(document, index)
        if not page:
            raise BillUnreadable(f"pdfium could not read the PDF's text: page {index + 1} did not load")
        try:
            textpage = pdfium_c.FPDFText_LoadPage(page)
            if not textpage:
                raise BillUnreadable(f"pdfium could not read the PDF's text: page {index + 1} has no text page")
            try:
                pages.append(_page_text(page, textpage))
            finally:
                pdfium_c.FPDFText_ClosePage(textpage)
        finally:
            pdfium_c.FPDF_ClosePage(page)
    return pages


def _page_text(page: pdfium_c.FPDF_PAGE, textpage: pdfium_c.FPDF_TEXTPAGE) -> str:
    """The text inside the page's box (pypdfium2's ``get_text_bounded``), asked of PDFium once.

    ``get_text_bounded`` asks twice, for the length and then for the text, and PDFium assembles the text each
    time (~2% of the extraction); here the buffer is sized from the character count instead. The text is the
    same: ``get_text_range`` (PDFium's own text buffer) is cheaper still but breaks lines by other rules.
    """
    box = pdfium_c.FS_RECTF()
    if not pdfium_c.FPDF_GetPageBoundingBox(page, box):
        raise BillUnreadable("pdfium could not read the PDF's text: no page box")
    chars = pdfium_c.FPDFText_CountChars(textpage)
    if chars <= 0:
        return ""
    buffer = (ctypes.c_ushort * (_UNITS_PER_CHAR * chars + 1))()
    copied = pdfium_c.FPDFText_GetBoundedText(textpage, box.left, box.top, box.right, box.bottom, buffer, len(buffer))
    if copied and buffer[copied - 1] == 0:
        copied -= 1  # the terminating NUL, copied when there is room for it
    return memoryview(buffer)[:copied].tobytes().decode("utf-16-le", errors="ignore")


def page_image(data: bytes, *, page: int = 0, scale: float = 2.0):  # noqa: ANN201 - a PIL image, or None
    """Page `page` of an (unlocked) PDF rendered to a grey PIL image at `scale` pixels a point; None past the end.

    For decoding the PIX QR code (processor.pix): grey and without anti-aliasing, which keeps module edges
    sharp and costs a quarter of a smooth colour render (~10 ms a page). Holds `_PDFIUM` like every other
    call into PDFium.
    """
    with open_document(data) as document:
        if len(document) <= page:
            return None
        try:
            return document[page].render(scale=scale, grayscale=True, no_smoothtext=True, no_smoothpath=True,
                                         no_smoothimage=True).to_pil()
        except pdfium.PdfiumError as exc:
            raise BillUnreadable(f"pdfium could not render the page: {exc}") from exc


def first_page_png(data: bytes, *, width: int = 1100) -> bytes:
    """The first page of an (already unlocked) PDF as a PNG about `width` pixels wide, for the review screen.

    Raises BillUnreadable as `pdf_text` does. The page is drawn under `_PDFIUM`, like every pdfium call.
    """
    import io

    with open_document(data) as document:
        if len(document) == 0:
            raise BillUnreadable("the PDF has no page")
        try:
            page = document[0]
            try:
                scale = max(0.5, min(4.0, width / max(page.get_width(), 1.0)))
                image = page.render(scale=scale).to_pil()
            finally:
                page.close()
        except pdfium.PdfiumError as exc:
            raise BillUnreadable(f"pdfium could not draw the page: {exc}") from exc
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
