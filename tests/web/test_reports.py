"""The detailed report: months from bills and from the newest bill's history, CSV export, SVG charts."""

from __future__ import annotations

import csv
import io
import os
import stat
from decimal import Decimal

from pypdf import PdfReader

from bot.context import AppContext
from storage.mail_models import Invoice
from tests.processor.mime import bill
from tests.web.conftest import csrf_of, make_settings
from web.app import create_app
from web.services.reports import bar_chart, monthly_rows


def _invoice(month: str, **fields) -> Invoice:
    return Invoice(unit_id=1, reference_month=month, status="parsed", fingerprint="f", pdf_sha256="0" * 64,
                   source="upload", **fields)


def test_history_fills_months_without_a_bill_and_bills_win():
    newest = _invoice("2026-11", consumption_kwh=Decimal("515"), amount_due=Decimal("94.56"),
                      data={"history": [{"month": "2026-11", "kwh": "999", "days": 30},
                                        {"month": "2026-10", "kwh": "468", "days": 31},
                                        {"month": "2026-09", "kwh": "416", "days": 30}]})
    older = _invoice("2026-09", consumption_kwh=Decimal("410"), compensated_kwh=Decimal("366"))
    rows = monthly_rows([newest, older])
    assert [(r.month, r.consumption_kwh, r.source) for r in rows] == [
        ("2026-09", Decimal("410"), "fatura"), ("2026-10", Decimal("468"), "histórico"),
        ("2026-11", Decimal("515"), "fatura")]
    assert rows[1].amount_due is None and rows[0].compensated_kwh == Decimal("366")


def test_chart_escapes_text_and_draws_one_bar_per_known_value():
    svg = bar_chart("Consumo <script>", [("2026-09", Decimal("10")), ("2026-10", None)], "kWh")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count("<rect") == 1 and "set/26" in svg and "out/26" in svg


def test_report_page_and_csv_export(web):
    ana = web.user("ana@solar.example.com")
    unit_id = web.unit(ana, 1)
    client = web.login("ana@solar.example.com")
    empty = client.get(f"/unidades/{unit_id}/relatorio")
    assert empty.status_code == 200 and "Ainda não há faturas" in empty.text
    files = [("arquivos", (f"{m}.pdf", bill("3000000001", m).pdf, "application/pdf")) for m in ("2026-10", "2026-11")]
    uploaded = client.post(f"/unidades/{unit_id}/faturas", data={"csrf_token": csrf_of(empty)}, files=files)
    assert "fatura de 2026-11 cadastrada" in uploaded.text
    page = client.get(f"/unidades/{unit_id}/relatorio")
    assert page.text.count('role="img"') == 4 and "@media print" not in page.text  # print rules live in the CSS
    assert "@media print" in client.get("/static/app.css").text
    exported = client.get(f"/unidades/{unit_id}/relatorio.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text), delimiter=";"))
    # 2026 bills print 12 months of history (the 2024 layout printed 13): 11 earlier months + the bill's own.
    assert len(rows) == 12 and rows[-1]["mes_referencia"] == "2026-11" and rows[-1]["origem"] == "fatura"
    assert rows[-1]["valor_rs"] == bill("3000000001", "2026-11").bill.amount_due
    assert rows[0]["origem"] == "histórico" and rows[0]["valor_rs"] == ""
    pdf = client.get(f"/unidades/{unit_id}/relatorio.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "Relatório detalhado" in text and "Histórico" in text
    web.user("bia@solar.example.com")
    assert web.login("bia@solar.example.com").get(f"/unidades/{unit_id}/relatorio.pdf").status_code == 404


def test_session_secret_is_generated_in_the_data_dir_once(database_url, tmp_path):
    app = AppContext(settings=make_settings(database_url, tmp_path))
    key_file = app.settings.web_session_key_file
    assert not key_file.exists()
    first = create_app(app).state.web.secret
    assert key_file.exists() and stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert create_app(app).state.web.secret == first and len(first) >= 32
    app.close()
