"""`faturas invoices export-fixture`: a reviewed bill becomes a golden pair with no personal data in it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from cli.main import build_app
from cli.support import EXIT_INPUT, EXIT_NOT_FOUND, run_app
from config.context import AppContext
from processor.fixture import Personal, mask_text
from processor.parse import generic
from processor.parse.checkdigits import linha_digitavel_amount, linha_digitavel_valid
from processor.parse.errors import BillUnparseable
from processor.parse.registry import PARSERS
from storage.engine import session_scope
from storage.invoices import record_review
from storage.mail_models import Invoice
from storage.models import Unit
from storage.secrets import new_key
from storage.units import create_unit
from tests.factories import unit_in
from tests.processor.parse.golden_pairs import mismatches, text_pairs
from tests.web.conftest import make_settings
from tests.web.review_bills import store_for_review


@pytest.fixture
def setup(monkeypatch, tmp_path, capsys, database_url):
    """An AppContext and `faturas ARGS` on the same database and keys; returns (app, run)."""
    key = new_key()
    env = {"FATURAS_DATA_DIR": str(tmp_path / "data"), "FATURAS_DATABASE_URL": database_url,
           "FATURAS_SECRET_KEYS": key, "FATURAS_LOG_FORMAT": "json", "HOME": str(tmp_path)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = AppContext(settings=make_settings(database_url, tmp_path, FATURAS_SECRET_KEYS=key))

    def run(*args: str) -> tuple[int, str, str]:
        code = run_app(build_app(), list(args))
        out, err = capsys.readouterr()
        return code, out, err

    yield app, run
    app.close()


def _unit(app) -> int:  # noqa: ANN001
    with session_scope(app.engine) as session:
        return create_unit(session=session, unit_in=unit_in(1), keys=app.keys(), inbox=app.inbox_policy,
                           integrator_id=None).id


def _review(app, invoice_id: int, **values) -> None:  # noqa: ANN001
    with session_scope(app.engine) as session:
        record_review(session=session, invoice=session.get(Invoice, invoice_id), values=values,
                      reviewed_by="dona@example.com", now=datetime.now(UTC))


def test_a_reviewed_bill_in_an_unknown_layout_exports_a_masked_pair_that_loads(setup, tmp_path):
    app, run = setup
    unit_id = _unit(app)
    invoice_id, truth = store_for_review(app, unit_id)
    with session_scope(app.engine) as session:
        unit = session.get(Unit, unit_id)
        document, client_name = unit.holder_document, unit.client_name
        original_barcode = session.get(Invoice, invoice_id).data["barcode"]
    assert run("invoices", "export-fixture", str(invoice_id), "--out", str(tmp_path / "g"))[0] == EXIT_INPUT
    _review(app, invoice_id, consumption_kwh=Decimal(truth.consumption_kwh),
            due_date=date.fromisoformat(truth.due_date), amount_due=Decimal(truth.amount_due),
            reference_month="2026-11")

    code, out, err = run("invoices", "export-fixture", str(invoice_id), "--out", str(tmp_path / "g"))
    assert code == 0, err
    (pair,) = text_pairs(tmp_path / "g")
    assert pair.stem == f"review-{invoice_id}-11-2026" and f"{pair.stem}.txt" in out
    # Nothing personal is left: names, document, address, barcode (in any form), automatic-debit code.
    flat = re.sub(r"[\s.\-/]", "", pair.text)
    personal = [truth.holder_name, client_name, "RUA DAS FLORES", "30110-000", "CENTRO",
                truth.automatic_debit_code]
    assert truth.holder_name and [v for v in personal if v.lower() in pair.text.lower()] == []
    assert document not in flat and original_barcode not in flat
    assert not any(block in flat for block in re.findall(r"\d{11}", original_barcode[24:]))  # the free field
    assert re.search(r"CPF 000\.000\.000-00", pair.text)
    # The confirmed fields, and a text that still carries them: the amount and the payee survive the mask.
    assert pair.expected["amount_due"] == truth.amount_due and pair.expected["due_date"] == truth.due_date
    assert pair.expected["consumption_kwh"] == f"{Decimal(truth.consumption_kwh):f}"
    assert linha_digitavel_valid(pair.expected["barcode"]) and pair.expected["barcode"] != original_barcode
    assert linha_digitavel_amount(pair.expected["barcode"]) == Decimal(truth.amount_due)
    read = generic.extract(pair.text, utility="cemig")
    assert (read.amount_due, read.due_date) == (truth.amount_due, truth.due_date)
    assert read.barcode == pair.expected["barcode"]
    assert read.checks["payee_is_utility"] is True
    with pytest.raises(BillUnparseable):  # the layout the pair is there to teach
        PARSERS["cemig"](pair.text)


def test_a_corrected_bill_of_a_known_layout_exports_a_pair_the_parser_reproduces(setup, tmp_path):
    app, run = setup
    invoice_id, truth = store_for_review(app, _unit(app), cycle="2025-10", other_installation="3000000099")
    _review(app, invoice_id, consumption_kwh=Decimal(truth.consumption_kwh))  # confirmed as read
    code, _, err = run("invoices", "export-fixture", str(invoice_id), "--out", str(tmp_path / "g"))
    assert code == 0, err
    (pair,) = text_pairs(tmp_path / "g")
    assert truth.holder_name not in pair.text and truth.barcode not in re.sub(r"[\s-]", "", pair.text)
    assert pair.expected["holder_name"] == "NOME OCULTO" and pair.expected["installation"] == "3000000099"
    parsed = PARSERS["cemig"](pair.text).model_dump(mode="json")
    assert mismatches(pair, parsed) == {}
    assert len(pair.known()) > 15  # items, taxes, history… every field the bill had, not only the reviewed ones
    assert run("invoices", "export-fixture", "999999", "--out", str(tmp_path / "h"))[0] == EXIT_NOT_FOUND


def test_pix_payloads_cnpjs_and_documents_are_masked_but_the_utility_s_cnpj_stays():
    pix = "00020101021226850014br.gov.bcb.pix2563qrpix.example/v2/cobv/9d36b84f5204000053039865406644.545802BR6304ABCD"
    text = (f"PIX {pix}\nCEMIG DISTRIBUIÇÃO S.A. CNPJ 06.981.180/0001-16\nCNPJ 11.222.333/0001-81\n"
            "documento 52998224725\nRG MG-12.345.678\n")
    masked = mask_text(text, Personal(document="529.982.247-25"))
    assert "br.gov.bcb.pix" not in masked and "9d36b84f" not in masked and "PIX-OCULTO" in masked
    assert "06.981.180/0001-16" in masked and "11.222.333" not in masked
    assert "52998224725" not in masked and "12.345.678" not in masked
