"""Extract: every PDF in a message, recognised by its bytes (`%PDF-`), inline or attached, any content type.

Raises NoBill (nothing PDF-like; notes an HTML download link when there is one — links are never
followed), AttachmentTooLarge (a part over the limit) or BillUnreadable (a part that claims to be a
PDF — `.pdf` name or application/pdf — but is not one, or a ZIP archive, which is refused by name and
never opened: a stored PDF inside one would otherwise pass the `%PDF-` sniff). Attachment names are
reduced to a safe base name (no folders, no `..`, no control characters): they are stored and become
the forwarded attachment's name.
"""

from __future__ import annotations

import re
from email.message import Message

from processor.errors import AttachmentTooLarge, BillUnreadable, NoBill
from processor.types import PdfPart

_LINK = re.compile(rb"""href\s*=\s*["']?https?://""", re.IGNORECASE)
PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def is_pdf(data: bytes) -> bool:
    """PDF readers accept the header anywhere in the first 1024 bytes; a ZIP holding a PDF is not one."""
    return not data.startswith(ZIP_MAGIC) and PDF_MAGIC in data[:1024]


def safe_filename(name: str | None) -> str | None:
    """The last path component of `name` without control or reserved characters, at most 120 characters."""
    if not name:
        return None
    base = re.split(r"[/\\]", str(name))[-1]
    cleaned = _UNSAFE_NAME.sub("_", base).strip(" .")
    if not cleaned or set(cleaned) <= {"_", "."}:
        return None
    return cleaned[-120:]


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except (ValueError, LookupError):  # a broken RFC 2231 parameter
        return None
    return safe_filename(name)


def _encoded_size(part: Message) -> int:
    payload = part.get_payload()
    if not isinstance(payload, str):
        return 0
    encoding = str(part.get("Content-Transfer-Encoding", "")).lower()
    return len(payload) * 3 // 4 if encoding == "base64" else len(payload)


def extract_pdfs(message: Message, *, max_bytes: int) -> list[PdfPart]:
    """The PDFs in `message`, in order."""
    pdfs: list[PdfPart] = []
    too_large: list[str] = []
    impostors: list[str] = []
    archives: list[str] = []
    has_link = False
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        filename = _filename(part)
        if _encoded_size(part) > max_bytes:
            too_large.append(filename or content_type)
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        if len(payload) > max_bytes:
            too_large.append(filename or content_type)
        elif payload.startswith(ZIP_MAGIC):
            archives.append(filename or content_type)
        elif is_pdf(payload):
            pdfs.append(PdfPart(filename=filename, data=payload))
        elif (filename or "").lower().endswith(".pdf") or content_type == "application/pdf":
            impostors.append(filename or content_type)
        elif content_type == "text/html" and _LINK.search(payload):
            has_link = True
    if too_large:
        raise AttachmentTooLarge(f"{len(too_large)} attachment(s) over the limit of {max_bytes} bytes: "
                                 f"{', '.join(too_large)}")
    if pdfs:
        return pdfs
    if archives:
        raise BillUnreadable(f"attachment {', '.join(archives)} is a ZIP archive, not one PDF; archives are not opened",
                             user_message="A fatura chegou dentro de um arquivo ZIP, que não é aberto por "
                                          "segurança; extraia o PDF e envie-o pela opção de importação.")
    if impostors:
        raise BillUnreadable(f"attachment {', '.join(impostors)} claims to be a PDF but its bytes are not one")
    if has_link:
        raise NoBill("no PDF in the message; its HTML body has a download link, which is never followed",
                     user_message="O e-mail não trouxe a fatura em PDF, apenas um link para baixá-la; "
                                  "baixe a fatura e envie-a pela opção de importação.")
    raise NoBill("no PDF in the message")
