"""Synthetic CEMIG bills: ``generate_bill(profile, cycle)`` → the PDF and the truth it shows.

A bill is a pure function of the profile and the cycle: the same inputs give the same unencrypted
bytes, and consecutive cycles of one installation agree with each other (readings chain, the history
shifts by one month, the SCEE credit balance carries over). See :mod:`simulator.bills.model`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

from pypdf import PdfReader, PdfWriter

from processor.parse.schema import Bill
from simulator.bills.billing import LAYOUT_2026, build_document
from simulator.bills.formats import MONTH_ABBR
from simulator.bills.profile import InstallationProfile
from simulator.bills.render import render
from simulator.bills.render_2026 import render_2026


@dataclass(frozen=True)
class GeneratedBill:
    """One generated bill: what is delivered (``pdf``), its unencrypted form and its truth."""

    pdf: bytes
    """The PDF as CEMIG would send it: AES-256 encrypted when the profile has a PDF password."""
    plain_pdf: bytes
    """The same PDF without encryption (identical to ``pdf`` when there is no password)."""
    bill: Bill
    """What the PDF shows, in the parser's schema."""
    linha_digitavel: str
    """The 48-digit linha digitável as printed (``83610000001-4 10120138001-7 …``)."""
    injected_kwh: Decimal
    """SCEE credits received in the cycle (not printed; explains the balance change)."""

    @property
    def encrypted(self) -> bool:
        """Whether ``pdf`` is password protected."""
        return self.pdf != self.plain_pdf

    @property
    def filename(self) -> str:
        """A CEMIG-like attachment name, e.g. ``Conta_CEMIG_3000055479_OUT2025.pdf`` (the UC code from 2026)."""
        year, month = (self.bill.reference_month or "0000-01").split("-")
        number = self.bill.installation or self.bill.uc_code
        return f"Conta_CEMIG_{number}_{MONTH_ABBR[int(month) - 1]}{year}.pdf"


def generate_bill(profile: InstallationProfile, cycle: str) -> GeneratedBill:
    """Generate the bill of ``profile`` for ``cycle`` (``"YYYY-MM"``); raises ValueError on a bad cycle."""
    document = build_document(profile, cycle)
    draw = render_2026 if document.bill.layout == LAYOUT_2026 else render
    plain = draw(document, conta_digital=profile.email is not None)
    delivered = encrypt_pdf(plain, profile.pdf_password) if profile.pdf_password else plain
    digits = document.linha_digitavel
    return GeneratedBill(
        pdf=delivered,
        plain_pdf=plain,
        bill=document.bill,
        linha_digitavel=" ".join(f"{digits[i : i + 11]}-{digits[i + 11]}" for i in range(0, 48, 12)),
        injected_kwh=document.injected_kwh,
    )


def encrypt_pdf(pdf: bytes, password: str) -> bytes:
    """Encrypt ``pdf`` with AES-256 so it opens only with ``password`` (owner password the same)."""
    if not password:
        raise ValueError("an empty password does not protect a PDF")
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=password, owner_password=password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
