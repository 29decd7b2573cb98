"""Parse: the utility's parser (processor.parse.registry) and the cross-checks that decide parsed vs needs_review.

Every check the parser attaches must pass, and the installation printed on the bill must be the unit's
(10-digit installation or 15-digit UC code). A 2026 bill prints only the UC code: for a unit registered by
its installation and with no UC code yet, that is not a mismatch but a code to learn (the bill was routed
to the unit by its inbox address). Parser errors become BillUnreadable here, except that with
`unparsed_fallback` (policy `mail.forward_unparsed` on an authentic bill) a page of the utility that no
layout parser accepts is read by the generic extractor and returned `unparsed`, to be stored, forwarded
and reviewed: a new layout is never a lost bill. A PDF without a text layer (a scan, a photo, a JPEG/PNG
upload wrapped in a PDF) is read by OCR (processor.parse.ocr, its key fields only, each with a confidence):
it is `needs_review` unless its amount cross-checks with the linha digitável (ocr_fields).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal

from processor.errors import BillUnreadable
from processor.parse import generic
from processor.parse.cemig.layouts import LAYOUTS_2026
from processor.parse.checks import installation_matches
from processor.parse.errors import BillError, BillUnparseable, NoTextLayer
from processor.parse.ocr import ocr_pdf
from processor.parse.ocr_fields import read_ocr_bill
from processor.parse.registry import PARSERS
from processor.parse.schema import Bill
from processor.parse.text import pdf_text
from processor.payee import mismatches
from processor.pix import read_pix_codes
from processor.types import ReadBill, UnlockedPdf

QR_LAYOUTS = frozenset({*LAYOUTS_2026, generic.LAYOUT})
"""Layouts that print a PIX QR code (or may: an unknown one): only these pay the ~40 ms of decoding it."""


def read_bill(pdf: UnlockedPdf, *, utility: str, installations: Sequence[str] = (),
              uc_code_known: bool = True, unparsed_fallback: bool = False, ocr: bool = True) -> ReadBill:
    """Parse and judge one bill; `installations` are the unit's codes (empty: no installation check).

    With `uc_code_known` False (the unit has an installation but no UC code), a bill that prints a UC code
    and no installation is not a mismatch: its UC code is returned as `uc_code_to_learn`.
    """
    parser = PARSERS.get(utility)
    if parser is None:
        raise BillUnreadable(f"no bill parser for utility {utility!r}")
    text = None
    try:
        text = pdf_text(pdf.readable)
        bill = parser(text)
    except NoTextLayer as exc:
        if not ocr:
            raise BillUnreadable(f"{type(exc).__name__}: {exc}", user_message=exc.user_message) from exc
        bill = _read_by_ocr(pdf, utility)
    except BillUnparseable as exc:
        if not (unparsed_fallback and text is not None and generic.names_utility(text, utility)):
            raise BillUnreadable(f"{type(exc).__name__}: {exc}", user_message=exc.user_message) from exc
        return _payee(_unparsed(pdf, generic.extract(text, utility=utility), installations), utility)
    except BillError as exc:
        raise BillUnreadable(f"{type(exc).__name__}: {exc}", user_message=exc.user_message) from exc
    if bill.reference_month is None:
        raise BillUnreadable("the bill has no reference month", user_message=_NO_MONTH.get(bill.layout))
    reasons = [name for name, passed in bill.checks.items() if not passed]
    if not bill.checks:
        reasons.append("no_checks")
    learn = None
    if installations and not any(installation_matches(bill, code) for code in installations):
        if not uc_code_known and bill.uc_code is not None and bill.installation is None:
            learn = bill.uc_code
        else:
            reasons.append("installation_mismatch")
    return _payee(ReadBill(pdf=pdf, bill=bill, needs_review=bool(reasons), review_reasons=tuple(reasons),
                           uc_code_to_learn=learn), utility)


def _payee(read: ReadBill, utility: str) -> ReadBill:
    """Decode the PIX QR where the layout prints one, then check who the barcode and the PIX pay.

    A mismatch makes the bill `payee_mismatch` (stored for review, never forwarded: processor.pipeline); a
    PIX amount other than the printed total is a review reason.
    """
    codes = read_pix_codes(read.pdf.readable)[0] if read.bill.layout in QR_LAYOUTS else []
    pix = codes[0] if codes else None
    found = tuple(mismatches(utility, barcode=read.bill.barcode, pix=codes))
    reasons = list(read.review_reasons)
    if pix is not None and pix.amount is not None and read.bill.amount_due is not None \
            and pix.amount != Decimal(read.bill.amount_due):
        reasons.append("pix_amount_mismatch")
    if found:
        reasons.append("payee_mismatch")
    if not found and reasons == list(read.review_reasons):
        return dataclasses.replace(read, pix=pix)
    return dataclasses.replace(read, pix=pix, payee_mismatch=found, needs_review=True,
                               review_reasons=tuple(dict.fromkeys(reasons)), unparsed=read.unparsed and not found)


_NO_MONTH = {"ocr": "A fatura é uma imagem (digitalizada ou fotografada) e o OCR não encontrou o mês de referência; "
                     "envie um PDF original da CEMIG ou uma foto mais nítida, de frente e sem sombras."}


def _read_by_ocr(pdf: UnlockedPdf, utility: str) -> Bill:
    """The key fields of an image-only bill, by OCR; raises OcrFailed (a BillUnreadable) when Tesseract fails."""
    try:
        return read_ocr_bill(ocr_pdf(pdf.readable), utility=utility)
    except BillError as exc:
        raise BillUnreadable(f"{type(exc).__name__}: {exc}", user_message=exc.user_message) from exc


def _unparsed(pdf: UnlockedPdf, bill: Bill, installations: Sequence[str]) -> ReadBill:
    """A bill in a layout no parser knows: always up for review, with what the generic extractor could read."""
    reasons = ["layout_unknown", *(name for name, passed in bill.checks.items() if not passed)]
    printed = [code for code in (bill.installation, bill.uc_code) if code]
    if installations and printed and not any(installation_matches(bill, code) for code in installations):
        reasons.append("installation_mismatch")
    # A barcode paying anyone but the utility is never forwarded, whatever the DKIM said: it is kept for review.
    forwardable = bill.checks.get("payee_is_utility") is not False
    # No log here: this runs in the PDF reader child (processor.isolate), whose inherited log handles are
    # closed; the pipeline logs `bill_read_generically` when the result comes back.
    return ReadBill(pdf=pdf, bill=bill, needs_review=True, review_reasons=tuple(reasons), unparsed=forwardable)
