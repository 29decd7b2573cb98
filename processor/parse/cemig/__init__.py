"""CEMIG Distribuição bills (Minas Gerais): text in, the bill schema out.

``parse_cemig`` recognises the layout (``layouts.py``), reads the fields by their printed labels
(``fields.py``, ``tables.py``) and attaches the cross-checks (``processor/parse/checks.py`` plus the
header-versus-payment-stub check below).
"""

from __future__ import annotations

from processor.parse.cemig import fields, meters, tables
from processor.parse.cemig.layouts import LAYOUTS, LAYOUTS_2026, NF3E_2023, NF3E_2024, detect_layout
from processor.parse.checks import standard_checks
from processor.parse.errors import BillUnparseable
from processor.parse.schema import Bill

__all__ = ["LAYOUTS", "parse_cemig"]

UTILITY = "cemig"


def _footer_matches_header(bill: Bill, footer: fields.Footer) -> bool:
    """The payment stub repeats the due date, the total and (usually) the installation or UC of the header."""
    if footer.installation is not None and footer.installation != bill.installation:
        return False
    if footer.uc_code is not None and footer.uc_code != bill.uc_code:
        return False
    return footer.due_date == bill.due_date and footer.amount_due == bill.amount_due


def parse_cemig(text: str) -> Bill:
    """Read a CEMIG bill's text (from ``processor.parse.text.pdf_text``) into a Bill with its checks.

    Fields the bill does not show, or that cannot be read with certainty, are None. Raises
    BillUnparseable when the text is not a CEMIG bill or lacks the reference month, due date and amount.
    The 2026 layouts are read by the shape of their values where labels are missing (they may be images).
    """
    layout = detect_layout(text)
    by_shape = layout in LAYOUTS_2026
    header = fields.header(text, by_shape=by_shape)
    if header.reference_month is None or header.due_date is None or header.amount_due is None:
        raise BillUnparseable(f"a {layout} bill without a readable reference month, due date and amount")
    customer_number, installation = fields.client_and_installation(text)
    invoice_number, series = fields.invoice(text)
    if by_shape:
        klass = fields.classification_by_shape(text, header.reference_month)
    else:
        klass = fields.classification(text, header.reference_month)
    meter, consumption = meters.meter(text, glued=by_shape)
    rows, items_total, _ = tables.items(text, by_shape=by_shape)
    footer = fields.footer(text, by_shape=by_shape)
    stub_uc = footer.uc_code if footer else None
    uc_code = fields.uc_code(text, stub=stub_uc) if by_shape else stub_uc
    bill = Bill(
        utility=UTILITY,
        layout=layout,
        installation=installation or (footer.installation if footer else None),
        uc_code=uc_code,
        customer_number=customer_number,
        reference_month=header.reference_month,
        due_date=header.due_date,
        issue_date=fields.issue_date(text),
        amount_due=header.amount_due,
        invoice_number=invoice_number,
        series=series,
        access_key=fields.access_key(text),
        holder_name=fields.holder_name(text),
        supply_type=klass.supply_type,
        tariff_class=klass.tariff_class,
        tariff_subclass=klass.tariff_subclass,
        tariff_modality=klass.tariff_modality,
        reading=klass.reading,
        meter=meter,
        consumption_kwh=consumption,
        injection=meters.injection(text) if by_shape else None,
        items=rows,
        items_total=items_total,
        public_lighting=tables.public_lighting(rows),
        scee=tables.scee(text, rows),
        taxes=tables.taxes(text),
        flags=tables.flags(text),
        reading_basis=fields.reading_basis(text),
        history=tables.history(text),
        barcode=fields.linha_digitavel(text),
        automatic_debit_code=footer.automatic_debit_code if footer else None,
        debts=tables.debts(text),
    )
    checks = standard_checks(bill, access_key_expected=layout in (NF3E_2023, NF3E_2024, *LAYOUTS_2026))
    if footer is not None:
        checks["footer_matches_header"] = _footer_matches_header(bill, footer)
    return bill.model_copy(update={"checks": checks})
