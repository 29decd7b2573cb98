"""The detailed report: months from bills and from the newest bill's history, CSV export, SVG charts."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from decimal import Decimal

from openpyxl import load_workbook
from pypdf import PdfReader

from config.context import AppContext
from reports.monthly import monthly_rows
from storage.mail_models import Invoice
from tests.processor.mime import bill
from tests.web.conftest import csrf_of, make_settings
from web.app import create_app
from web.services.reports import Series, chart


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
    svg = chart("Consumo <script>", ["2026-09", "2026-10"], [Series("Consumo", [Decimal("1234.5"), None])], "kWh")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count('class="bar') == 1 and "set/26" in svg and "out/26" in svg
    assert "set/26: 1.234,50 kWh" in svg  # pt-BR tooltip
    line = chart("Saldo", ["2026-09", "2026-10"], [Series("Saldo", [Decimal("10"), Decimal("20")])], "kWh",
                 kind="line")
    assert "<polyline" in line and line.count("<circle") == 2 and 'class="bar' not in line


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


def _cells(html: str, table_id: str) -> list[list[str]]:
    """The text of every cell of one table of a page, row by row."""
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S) if "<td" in row]


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " "))


def test_savings_client_group_exports_and_the_pdf_agree_with_the_page(web):
    """Two units of one holder; figures computed by hand from the generated bills' own lines.

    3000000001, nov/26 (2026 design, the minimum billed as Custo de Disponibilidade at 1,14526658 R$/kWh):
    energy lines 57,26 + 190,25 − 139,51 − 43,78 = 64,22; 364 kWh × 1,14526658 = 416,88;
    without solar 107,59 − 64,22 + 416,88 = 460,25; savings 352,66.
    3000000002, nov/26 (Energia Elétrica at 1,14526658): 229,05 + 98,76 − 95,14 = 232,67;
    363 × 1,14526658 = 415,73; without solar 278,17 − 232,67 + 415,73 = 461,23; savings 183,06.
    The client's nov/26 savings: 535,72.
    """
    ana = web.user("ana@solar.example.com")
    first = web.unit(ana, 1, holder_document="29141777638")
    second = web.unit(ana, 2, holder_document="29141777638")
    client = web.login("ana@solar.example.com")
    for unit_id, installation in ((first, "3000000001"), (second, "3000000002")):
        form = client.get(f"/unidades/{unit_id}")
        files = [("arquivos", (f"{m}.pdf", bill(installation, m).pdf, "application/pdf"))
                 for m in ("2026-10", "2026-11")]
        client.post(f"/unidades/{unit_id}/faturas", data={"csrf_token": csrf_of(form)}, files=files)

    page = client.get(f"/unidades/{first}/relatorio")
    rows = {cells[0]: cells for cells in _cells(page.text, "relatorio")}
    november = rows["nov/26"]
    assert november[5] == "R$\u00a0107,59" and november[6] == "R$\u00a0460,25" and november[7] == "R$\u00a0352,66"
    assert november[1] == "364\u00a0kWh" and november[3] == "314\u00a0kWh" and november[4] == "15,05\u00a0kWh"
    assert "Resumo de nov/26" in page.text and "Relatório do cliente (2 unidades)" in page.text
    assert "Nenhum alerta." in page.text and "Energia Elétrica" in page.text  # the formula's footnote

    pdf_text = _squash(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(
        client.get(f"/unidades/{first}/relatorio.pdf").content)).pages))
    for cells in _cells(page.text, "relatorio"):
        for cell in cells:
            assert _squash(cell) in pdf_text, (cells[0], cell)

    sheet = load_workbook(io.BytesIO(client.get(f"/unidades/{first}/relatorio.xlsx").content)).active
    header = [c.value for c in sheet[2]]
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[0] == "nov/26" and last[header.index("economia_rs")] == 352.66

    group = client.get(f"/unidades/{first}/cliente")
    totals = {cells[0]: cells for cells in _cells(group.text, "cliente-total")}
    assert totals["nov/26"][7] == "R$\u00a0535,72" and totals["nov/26"][5] == "R$\u00a0385,76"
    assert f'id="unidade-{first}"' in group.text and f'id="unidade-{second}"' in group.text
    web.user("bia@solar.example.com")
    assert web.login("bia@solar.example.com").get(f"/unidades/{first}/cliente").status_code == 404


def test_the_unit_page_lists_its_alerts_with_who_must_act(web):
    from storage.engine import session_scope
    from storage.models import Unit

    ana = web.user("ana@solar.example.com")
    unit_id = web.unit(ana, 1)
    client = web.login("ana@solar.example.com")
    assert 'id="alertas"' not in client.get(f"/unidades/{unit_id}").text
    with session_scope(web.app.engine) as session:
        unit = session.get(Unit, unit_id)
        unit.adhesion_status = "bill_overdue"
        session.add(unit)
    page = client.get(f"/unidades/{unit_id}").text
    assert 'data-alert="bill_missing"' in page and "Fatura não chegou" in page and "Quem deve agir: Operador" in page
    assert "Fatura atrasada (não chegou no prazo)" in page  # the state's label, no longer empty


def test_expected_generation_is_registered_from_the_report_and_printed_in_both_forms(web):
    ana = web.user("ana@solar.example.com")
    unit_id = web.unit(ana, 1)
    client = web.login("ana@solar.example.com")
    form = client.get(f"/unidades/{unit_id}")
    files = [("arquivos", ("2026-11.pdf", bill("3000000001", "2026-11").pdf, "application/pdf"))]
    client.post(f"/unidades/{unit_id}/faturas", data={"csrf_token": csrf_of(form)}, files=files)
    page = client.get(f"/unidades/{unit_id}/relatorio")
    assert "Geração esperada</th>" in page.text  # a generating unit: its bills print the injected energy
    assert {c[0]: c for c in _cells(page.text, "relatorio")}["nov/26"][12] == "—"  # nothing expected yet
    bad = client.post(f"/unidades/{unit_id}/geracao-esperada", data={"csrf_token": csrf_of(page), "geracao": "1; 2"})
    assert bad.status_code in (400, 422) and "12" in bad.text
    saved = client.post(f"/unidades/{unit_id}/geracao-esperada",
                        data={"csrf_token": csrf_of(page), "geracao": "; ".join(str(400 + m) for m in range(12))},
                        follow_redirects=True)
    assert "Geração esperada salva." in saved.text and "Geração esperada</th>" in saved.text
    november = {c[0]: c for c in _cells(saved.text, "relatorio")}["nov/26"]
    assert "410\u00a0kWh" in november and 'value="400; 401; 402' in saved.text
    assert "energia injetada na rede" in saved.text  # what the comparison is made with
    pdf_text = _squash(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(
        client.get(f"/unidades/{unit_id}/relatorio.pdf").content)).pages))
    assert "Geração esperada" in pdf_text and "410 kWh" in pdf_text
    cleared = client.post(f"/unidades/{unit_id}/geracao-esperada", data={"csrf_token": csrf_of(page), "geracao": ""},
                          follow_redirects=True)
    assert {c[0]: c for c in _cells(cleared.text, "relatorio")}["nov/26"][12] == "—"
    web.user("bia@solar.example.com")
    intruder = web.login("bia@solar.example.com")
    other = intruder.get("/unidades")
    assert intruder.post(f"/unidades/{unit_id}/geracao-esperada",
                         data={"csrf_token": csrf_of(other), "geracao": "1"}).status_code == 404
