"""PIX BR Code: find the QR codes on a bill's page and read the EMV payload of the PIX one.

A BR Code (Banco Central do Brasil, "Manual de Padrões para Iniciação do Pix") is EMV QRCPS text: a run of
`ID(2 digits) LENGTH(2 digits) VALUE` fields. Tag 26 is the merchant account (sub-tag 00 `br.gov.bcb.pix`,
01 the PIX key, 02 a description), 54 the amount, 59 the merchant name, 60 the city, 62 additional data
(sub-tag 05 the txid), 63 a CRC16-CCITT (poly 0x1021, init 0xFFFF) over everything up to and including
"6304". The page is rendered with PDFium (pypdfium2) and the QR codes are decoded with zxing-cpp; this
costs ~40 ms a page, so it runs only on the layouts that print a PIX QR (see processor.bill).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

PIX_GUI = "br.gov.bcb.pix"
RENDER_SCALE = 2.0
"""Page pixels per PDF point: 2 reads the real ABR/2026 bill's 60-pt QR and the simulator's; 1 does not."""


@dataclass(frozen=True)
class Pix:
    """The fields of a static or dynamic PIX BR Code that say who is paid, and how much."""

    key: str | None
    merchant: str | None
    city: str | None
    amount: Decimal | None
    txid: str | None
    description: str | None
    crc_valid: bool


def crc16(data: bytes) -> int:
    """CRC16-CCITT-FALSE, as the BR Code's tag 63 uses."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def fields(payload: str) -> dict[str, str]:
    """The top-level (or a template's) `ID LEN VALUE` fields; ValueError on a malformed run."""
    out: dict[str, str] = {}
    i = 0
    while i < len(payload):
        tag, length = payload[i:i + 2], payload[i + 2:i + 4]
        if len(tag) < 2 or not tag.isdigit() or not length.isdigit():
            raise ValueError(f"malformed EMV field at {i}")
        end = i + 4 + int(length)
        if end > len(payload):
            raise ValueError(f"EMV field {tag} runs past the end")
        out[tag] = payload[i + 4:end]
        i = end
    return out


def with_crc(body: str) -> str:
    """`body` (without tag 63) with its CRC field appended: what a BR Code generator emits."""
    head = body + "6304"
    return head + f"{crc16(head.encode('utf-8')):04X}"


def parse(payload: str) -> Pix | None:
    """The PIX fields of an EMV payload, or None when it is not a PIX BR Code."""
    try:
        top = fields(payload)
    except ValueError:
        return None
    account = None
    for tag in (str(n) for n in range(26, 52)):
        if tag in top:
            try:
                sub = fields(top[tag])
            except ValueError:
                continue
            if sub.get("00", "").lower() == PIX_GUI:
                account = sub
                break
    if account is None:
        return None
    try:
        amount = Decimal(top["54"]) if "54" in top else None
    except InvalidOperation:
        amount = None
    try:
        txid = fields(top["62"]).get("05") if "62" in top else None
    except ValueError:
        txid = None
    crc = top.get("63")
    cut = payload.rfind("6304")
    crc_valid = (crc is not None and cut >= 0 and payload.endswith(crc)
                 and f"{crc16(payload[:cut + 4].encode('utf-8')):04X}" == crc.upper())
    return Pix(key=account.get("01"), merchant=top.get("59"), city=top.get("60"), amount=amount, txid=txid,
               description=account.get("02"), crc_valid=crc_valid)


def qr_texts(pdf: bytes, *, page: int = 0) -> list[str]:
    """The text of every QR code on `page` of an (unlocked) PDF."""
    import zxingcpp

    from processor.parse.text import page_image

    image = page_image(pdf, page=page, scale=RENDER_SCALE)
    if image is None:
        return []
    # A bill's page is upright, dark on light and rendered at full size: skipping the rotated, inverted and
    # downscaled passes halves the decode and still reads every sample and generated bill.
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode, try_rotate=False,
                                   try_downscale=False, try_invert=False)
    return [r.text for r in found if r.text]


def read_pix_codes(pdf: bytes) -> tuple[list[Pix], int]:
    """Every PIX BR Code on the bill's first page, and how many QR codes the page has.

    The whole page is read, not only where the layout prints its QR: a forged bill may add a second QR
    beside the genuine one, and every one of them must pay the utility (processor.payee).
    """
    texts = qr_texts(pdf)
    return [pix for pix in map(parse, texts) if pix is not None], len(texts)


def read_pix(pdf: bytes) -> tuple[Pix | None, int]:
    """The first PIX BR Code on the bill's first page, and how many QR codes the page has."""
    codes, count = read_pix_codes(pdf)
    return (codes[0] if codes else None), count
