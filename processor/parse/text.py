"""PDF bytes to text, with pypdfium2: the one place where pdfium errors are translated."""

from __future__ import annotations

import pypdfium2 as pdfium

from processor.parse.errors import BillUnreadable


def pdf_text(data: bytes) -> str:
    """Return the text layer of an (already unlocked) PDF, pages joined by form feeds.

    Lines end with a newline. Raises BillUnreadable when pdfium cannot open the document (corrupt,
    truncated, still encrypted) or when no page carries any text (a scanned image).
    """
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise BillUnreadable(f"pdfium could not open the PDF: {exc}") from exc
    try:
        pages = []
        for page in document:
            textpage = page.get_textpage()
            try:
                pages.append(textpage.get_text_bounded())
            finally:
                textpage.close()
                page.close()
    except pdfium.PdfiumError as exc:
        raise BillUnreadable(f"pdfium could not read the PDF's text: {exc}") from exc
    finally:
        document.close()
    text = "\f".join(pages).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise BillUnreadable("the PDF has no text layer (an image-only scan?)")
    return text
