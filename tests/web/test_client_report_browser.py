"""A client's plant and two beneficiaries over 13 months of generated bills, in Chromium, and its PDF.

The expected figures below were computed by hand from the generated bills' own lines (not by `reports`):
for each bill, savings = consumo medido × preço unitário of its "Energia Elétrica" line (or, where a 2026 bill
bills the minimum as "Custo de Disponibilidade", of that line) − the sum of its energy and compensation lines
(every line but "Contrib Ilum Publica Municipal"). Each comment shows that arithmetic, in R$:
`kWh × price = without-solar energy; energy lines = their sum; sem FV = valor pago − energy lines + kWh × price;
economia = sem FV − valor pago`. Credit balances are each bill's "SALDO ATUAL DE GERAÇÃO"; the injected energy
is the plant's "Energia Injetada" meter row (2026 bills; the 2025 layout does not print it).
"""

from __future__ import annotations

import re
from collections import Counter
from io import BytesIO
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.reports.client_bills import FIRST, HOLDER, MONTHS, PLANT, SECOND, client_bill
from tests.web.conftest import PASSWORD, Web, csrf_of

pytestmark = pytest.mark.browser

SAVINGS = {
    PLANT: {
        # 2025-11: 439 kWh × 1,07156625 = 470,42; energia 53,58 + 220,78 - 213,81 = 60,55;
        #          sem FV 102,26 - 60,55 + 470,42 = 512,13; economia = 409,87
        "2025-11": "409,87",
        # 2025-12: 313 kWh × 1,07716796 = 337,15; energia 53,86 + 149,91 - 144,55 = 59,22;
        #          sem FV 100,93 - 59,22 + 337,15 = 378,86; economia = 277,93
        "2025-12": "277,93",
        # 2026-01: 350 kWh × 1,08102729 = 378,36; energia 54,05 + 171,49 - 125,32 - 39,57 = 60,65;
        #          sem FV 104,02 - 60,65 + 378,36 = 421,73; economia = 317,71
        "2026-01": "317,71",
        # 2026-02: 357 kWh × 1,08728807 = 388,16; energia 54,36 + 176,32 - 128,61 - 40,12 = 61,95;
        #          sem FV 105,32 - 61,95 + 388,16 = 431,53; economia = 326,21
        "2026-02": "326,21",
        # 2026-03: 231 kWh × 1,10103327 = 254,34; energia 55,05 + 105,02 - 75,85 - 23,63 = 60,59;
        #          sem FV 103,96 - 60,59 + 254,34 = 297,71; economia = 193,75
        "2026-03": "193,75",
        # 2026-04: 368 kWh × 1,10912804 = 408,16; energia 55,46 + 185,60 - 133,01 - 41,77 = 66,28;
        #          sem FV 109,65 - 66,28 + 408,16 = 451,53; economia = 341,88
        "2026-04": "341,88",
        # 2026-05: 266 kWh × 1,07964579 = 287,19; energia 53,98 + 123,35 - 90,69 - 28,03 = 58,61;
        #          sem FV 101,98 - 58,61 + 287,19 = 330,56; economia = 228,58
        "2026-05": "228,58",
        # 2026-06: 300 kWh × 1,15917550 = 347,75; energia 57,96 + 152,96 - 110,91 - 35,02 = 64,99;
        #          sem FV 108,36 - 64,99 + 347,75 = 391,12; economia = 282,76
        "2026-06": "282,76",
        # 2026-07: 276 kWh × 1,16549992 = 321,68; energia 58,27 + 138,89 - 100,40 - 31,52 = 65,24;
        #          sem FV 108,61 - 65,24 + 321,68 = 365,05; economia = 256,44
        "2026-07": "256,44",
        # 2026-08: 304 kWh × 1,14162341 = 347,05; energia 57,08 + 153,50 - 113,24 - 35,02 = 62,32;
        #          sem FV 105,69 - 62,32 + 347,05 = 390,42; economia = 284,73
        "2026-08": "284,73",
        # 2026-09: 332 kWh × 1,15203112 = 382,47; energia 57,60 + 171,68 - 125,50 - 39,11 = 64,67;
        #          sem FV 108,04 - 64,67 + 382,47 = 425,84; economia = 317,80
        "2026-09": "317,80",
        # 2026-10: 275 kWh × 1,14191401 = 314,03; energia 57,10 + 136,00 - 99,81 - 31,52 = 61,77;
        #          sem FV 105,14 - 61,77 + 314,03 = 357,40; economia = 252,26
        "2026-10": "252,26",
        # 2026-11: 364 kWh × 1,14526658 = 416,88; energia 57,26 + 190,25 - 139,51 - 43,78 = 64,22;
        #          sem FV 107,59 - 64,22 + 416,88 = 460,25; economia = 352,66
        "2026-11": "352,66",
    },
    FIRST: {
        # 2025-11: 410 kWh × 1,07156625 = 439,34; energia 53,58 + 204,32 - 197,87 = 60,03;
        #          sem FV 103,78 - 60,03 + 439,34 = 483,09; economia = 379,31
        "2025-11": "379,31",
        # 2025-12: 519 kWh × 1,07716796 = 559,05; energia 270,37 + 152,76 - 147,30 = 275,83;
        #          sem FV 319,58 - 275,83 + 559,05 = 602,80; economia = 283,22
        "2025-12": "283,22",
        # 2026-01: 382 kWh × 1,08102729 = 412,95; energia 166,48 + 130,33 - 125,32 = 171,49;
        #          sem FV 216,99 - 171,49 + 412,95 = 458,45; economia = 241,46
        "2026-01": "241,46",
        # 2026-02: 353 kWh × 1,08728807 = 383,81; energia 54,36 + 174,02 - 166,54 = 61,84;
        #          sem FV 107,34 - 61,84 + 383,81 = 429,31; economia = 321,97
        "2026-02": "321,97",
        # 2026-03: 321 kWh × 1,10103327 = 353,43; energia 95,79 + 135,77 - 128,61 = 102,95;
        #          sem FV 148,45 - 102,95 + 353,43 = 398,93; economia = 250,48
        "2026-03": "250,48",
        # 2026-04: 360 kWh × 1,10912804 = 399,29; energia 74,31 + 171,01 - 161,04 = 84,28;
        #          sem FV 129,78 - 84,28 + 399,29 = 444,79; economia = 315,01
        "2026-04": "315,01",
        # 2026-05: 318 kWh × 1,07964579 = 343,33; energia 106,88 + 125,06 - 120,37 = 111,57;
        #          sem FV 157,07 - 111,57 + 343,33 = 388,83; economia = 231,76
        "2026-05": "231,76",
        # 2026-06: 311 kWh × 1,15917550 = 360,50; energia 103,17 + 135,83 - 129,58 = 109,42;
        #          sem FV 154,92 - 109,42 + 360,50 = 406,00; economia = 251,08
        "2026-06": "251,08",
        # 2026-07: 270 kWh × 1,16549992 = 314,68; energia 58,27 + 135,20 - 128,42 = 65,05;
        #          sem FV 110,55 - 65,05 + 314,68 = 360,18; economia = 249,63
        "2026-07": "249,63",
        # 2026-08: 402 kWh × 1,14162341 = 458,93; energia 57,08 + 212,72 - 205,47 = 64,33;
        #          sem FV 109,83 - 64,33 + 458,93 = 504,43; economia = 394,60
        "2026-08": "394,60",
        # 2026-09: 392 kWh × 1,15203112 = 451,60; energia 57,60 + 208,21 - 199,63 = 66,18;
        #          sem FV 111,68 - 66,18 + 451,60 = 497,10; economia = 385,42
        "2026-09": "385,42",
        # 2026-10: 342 kWh × 1,14191401 = 390,53; energia 62,81 + 173,48 - 167,52 = 68,77;
        #          sem FV 114,27 - 68,77 + 390,53 = 436,03; economia = 321,76
        "2026-10": "321,76",
        # 2026-11: 363 kWh × 1,14526658 = 415,73; energia 116,82 + 158,14 - 152,35 = 122,61;
        #          sem FV 168,11 - 122,61 + 415,73 = 461,23; economia = 293,12
        "2026-11": "293,12",
    },
    SECOND: {
        # 2025-11: 253 kWh × 1,07156625 = 271,11; energia 53,58 + 115,22 - 111,58 = 57,22;
        #          sem FV 94,86 - 57,22 + 271,11 = 308,75; economia = 213,89
        "2025-11": "213,89",
        # 2025-12: 250 kWh × 1,07716796 = 269,29; energia 53,86 + 114,00 - 109,93 = 57,93;
        #          sem FV 95,57 - 57,93 + 269,29 = 306,93; economia = 211,36
        "2025-12": "211,36",
        # 2026-01: 334 kWh × 1,08102729 = 361,06; energia 54,05 + 162,35 - 156,10 = 60,30;
        #          sem FV 99,45 - 60,30 + 361,06 = 400,21; economia = 300,76
        "2026-01": "300,76",
        # 2026-02: 291 kWh × 1,08728807 = 316,40; energia 54,36 + 138,41 - 132,46 = 60,31;
        #          sem FV 99,46 - 60,31 + 316,40 = 355,55; economia = 256,09
        "2026-02": "256,09",
        # 2026-03: 233 kWh × 1,10103327 = 256,54; energia 55,05 + 106,18 - 100,58 = 60,65;
        #          sem FV 99,80 - 60,65 + 256,54 = 295,69; economia = 195,89
        "2026-03": "195,89",
        # 2026-04: 308 kWh × 1,10912804 = 341,61; energia 55,46 + 150,58 - 141,81 = 64,23;
        #          sem FV 103,38 - 64,23 + 341,61 = 380,76; economia = 277,38
        "2026-04": "277,38",
        # 2026-05: 203 kWh × 1,07964579 = 219,17; energia 53,98 + 87,37 - 84,09 = 57,26;
        #          sem FV 96,41 - 57,26 + 219,17 = 258,32; economia = 161,91
        "2026-05": "161,91",
        # 2026-06: 224 kWh × 1,15917550 = 259,66; energia 57,96 + 106,46 - 101,57 = 62,85;
        #          sem FV 102,00 - 62,85 + 259,66 = 298,81; economia = 196,81
        "2026-06": "196,81",
        # 2026-07: 189 kWh × 1,16549992 = 220,28; energia 58,27 + 85,42 - 81,14 = 62,55;
        #          sem FV 101,70 - 62,55 + 220,28 = 259,43; economia = 157,73
        "2026-07": "157,73",
        # 2026-08: 244 kWh × 1,14162341 = 278,56; energia 57,08 + 117,24 - 113,24 = 61,08;
        #          sem FV 100,23 - 61,08 + 278,56 = 317,71; economia = 217,48
        "2026-08": "217,48",
        # 2026-09: 274 kWh × 1,15203112 = 315,66; energia 57,60 + 136,37 - 130,75 = 63,22;
        #          sem FV 102,37 - 63,22 + 315,66 = 354,81; economia = 252,44
        "2026-09": "252,44",
        # 2026-10: 264 kWh × 1,14191401 = 301,47; energia 57,10 + 129,35 - 124,91 = 61,54;
        #          sem FV 100,69 - 61,54 + 301,47 = 340,62; economia = 239,93
        "2026-10": "239,93",
        # 2026-11: 247 kWh × 1,14526658 = 282,88; energia 57,26 + 119,36 - 114,99 = 61,63;
        #          sem FV 100,78 - 61,63 + 282,88 = 322,03; economia = 221,25
        "2026-11": "221,25",
    },
}
# Cumulative savings of each unit over the 13 months (the sums of the values above):
#   plant 409,87 + 277,93 + 317,71 + 326,21 + 193,75 + 341,88 + 228,58 + 282,76 + 256,44 + 284,73 + 317,80
#         + 252,26 + 352,66 = 3.842,58
#   first 379,31 + 283,22 + 241,46 + 321,97 + 250,48 + 315,01 + 231,76 + 251,08 + 249,63 + 394,60 + 385,42
#         + 321,76 + 293,12 = 3.918,82
#   second 213,89 + 211,36 + 300,76 + 256,09 + 195,89 + 277,38 + 161,91 + 196,81 + 157,73 + 217,48 + 252,44
#         + 239,93 + 221,25 = 2.902,92
CUMULATIVE = {PLANT: "3.842,58", FIRST: "3.918,82", SECOND: "2.902,92"}
CLIENT_CUMULATIVE = "10.664,32"  # 3.842,58 + 3.918,82 + 2.902,92
CLIENT_NOV26_SAVINGS = "867,03"  # 352,66 + 293,12 + 221,25
# SALDO ATUAL DE GERAÇÃO of the nov/26 bills: 193,90 (plant) + 0,90 + 3.179,20 = 3.374,00 kWh.
BALANCE_NOV26 = {PLANT: "193,90 kWh", FIRST: "0,90 kWh", SECOND: "3.179,20 kWh"}
CLIENT_BALANCE_NOV26 = "3.374 kWh"
EXPECTED_KWH = "750"
# The plant's "Energia Injetada" rows (current − previous register) in 2026, against the 750 kWh expected:
# 650/750 = 86,67 %, 945/750 = 126 %, 589/750 = 78,53 %, 837/750 = 111,6 %, 625/750 = 83,33 %, 635/750 = 84,67 %,
# 884/750 = 117,87 %, 939/750 = 125,2 %, 904/750 = 120,53 %, 706/750 = 94,13 %, 746/750 = 99,47 % (one decimal).
INJECTED = {"2026-01": ("650 kWh", "86,7 %"), "2026-02": ("945 kWh", "126 %"), "2026-03": ("589 kWh", "78,5 %"),
            "2026-04": ("837 kWh", "111,6 %"), "2026-05": ("625 kWh", "83,3 %"), "2026-06": ("635 kWh", "84,7 %"),
            "2026-07": ("884 kWh", "117,9 %"), "2026-08": ("939 kWh", "125,2 %"), "2026-09": ("904 kWh", "120,5 %"),
            "2026-10": ("706 kWh", "94,1 %"), "2026-11": ("746 kWh", "99,5 %")}

ROWS_JS = "rows => rows.map(r => [r.dataset.month, ...[...r.cells].map(c => c.innerText.replace(/\\u00a0/g, ' '))])"
FIGURE = re.compile(r"-?R\$ ?-?[\d.]+,\d{2}|-?[\d.]+(?:,\d+)? kWh|[\d.]+(?:,\d+)? %")
ECONOMIA, ACUMULADA, SALDO, INJETADA, ESPERADA, RAZAO = 8, 9, 5, 3, 12, 13  # cell indexes (month first)


def _upload(web: Web, unit_id: int, installation: str) -> None:
    client = web.login("ana@solar.example.com")
    form = client.get(f"/unidades/{unit_id}")
    files = [("arquivos", (f"{m}.pdf", client_bill(installation, m).pdf, "application/pdf")) for m in MONTHS]
    response = client.post(f"/unidades/{unit_id}/faturas", data={"csrf_token": csrf_of(form)}, files=files)
    assert response.status_code == 200
    assert all(f"fatura de {month} cadastrada" in response.text for month in MONTHS), response.text


def _rows(page: Page, selector: str) -> dict[str, list[str]]:
    return {row[0]: row for row in page.locator(f"{selector} tbody tr").evaluate_all(ROWS_JS)}


def _figures(text: str) -> Counter:
    return Counter(FIGURE.findall(" ".join(text.replace("\u00a0", " ").split())))


def _page_figures(page: Page) -> Counter:
    """Every figure the page shows in its summary, alerts and tables (the charts' tooltips aside)."""
    parts = page.locator("#resumo dd, #alertas li, table.grid td").all_inner_texts()
    return _figures(" ".join(parts))


def _pdf_figures(page: Page, url: str) -> Counter:
    response = page.request.get(url)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    return _figures(" ".join(p.extract_text() for p in PdfReader(BytesIO(response.body())).pages))


def test_a_plant_and_two_beneficiaries_over_13_months(page: Page, web: Web, output_path):
    ana = web.user("ana@solar.example.com")
    units = {inst: web.unit(ana, int(inst[-2:]), holder_document=HOLDER, client_name="Maria Souza")
             for inst in (PLANT, FIRST, SECOND)}
    for inst, unit_id in units.items():
        _upload(web, unit_id, inst)
    shots = Path(output_path)

    page.goto(f"{web.url}/entrar")
    page.get_by_label("E-mail").fill("ana@solar.example.com")
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.goto(f"{web.url}/unidades/{units[PLANT]}/relatorio")
    page.get_by_label(re.compile("kWh por mês do dimensionamento")).fill(EXPECTED_KWH)
    page.get_by_role("button", name="Salvar geração esperada").click()
    expect(page.get_by_text("Geração esperada salva.")).to_be_visible()

    # The plant's own report: savings, balance, expected vs injected generation.
    rows = _rows(page, "#relatorio")
    assert list(rows) == MONTHS
    assert {m: r[ECONOMIA] for m, r in rows.items()} == {m: f"R$ {v}" for m, v in SAVINGS[PLANT].items()}
    assert rows["2026-11"][ACUMULADA] == f"R$ {CUMULATIVE[PLANT]}"
    assert rows["2026-11"][SALDO] == BALANCE_NOV26[PLANT]
    assert {m: (r[INJETADA], r[RAZAO]) for m, r in rows.items() if m >= "2026"} == INJECTED
    assert {r[ESPERADA] for r in rows.values()} == {f"{EXPECTED_KWH} kWh"}
    assert rows["2025-11"][INJETADA] == rows["2025-11"][RAZAO] == "—"  # the 2025 layout prints no injection
    expect(page.locator("#geracao-base")).to_contain_text("energia injetada na rede")
    expect(page.locator("#resumo-economia")).to_have_text("R$\u00a0352,66")
    expect(page.locator("#alertas")).to_contain_text("Nenhum alerta.")
    page.screenshot(path=shots / "relatorio-geradora.png", full_page=True)
    shown = _page_figures(page)
    # 13 rows × 10 figures (consumo, compensada, saldo, valor, sem FV, economia, acumulada, custo de
    # disponibilidade, esperada, and injetada with its ratio on the 11 2026 rows) and the 4 of the summary.
    assert sum(shown.values()) >= 13 * 10 + 4 and shown[f"R$ {SAVINGS[PLANT]['2026-11']}"] >= 2
    assert shown == _pdf_figures(page, f"{web.url}/unidades/{units[PLANT]}/relatorio.pdf")

    # The client's page: the group's totals and each unit's breakdown.
    page.get_by_role("link", name="Relatório do cliente (3 unidades)").click()
    expect(page.get_by_role("heading", name="Relatório do cliente")).to_be_visible()
    expect(page.locator(f"#unidade-{units[PLANT]}")).to_contain_text("Unidade geradora")
    for inst in (FIRST, SECOND):
        expect(page.locator(f"#unidade-{units[inst]}")).to_contain_text("Unidade beneficiária")
    for inst, unit_id in units.items():
        rows = _rows(page, f"#unidade-{unit_id}-tabela")
        assert {m: r[ECONOMIA] for m, r in rows.items()} == {m: f"R$ {v}" for m, v in SAVINGS[inst].items()}
        assert rows["2026-11"][ACUMULADA] == f"R$ {CUMULATIVE[inst]}"
        assert rows["2026-11"][SALDO] == BALANCE_NOV26[inst]
    totals = _rows(page, "#cliente-total")
    assert totals["2026-11"][ECONOMIA] == f"R$ {CLIENT_NOV26_SAVINGS}"
    assert totals["2026-11"][ACUMULADA] == f"R$ {CLIENT_CUMULATIVE}"
    assert totals["2026-11"][SALDO] == CLIENT_BALANCE_NOV26
    expect(page.locator("#resumo-acumulada")).to_have_text(f"R$\u00a0{CLIENT_CUMULATIVE}")
    expect(page.locator("#resumo-creditos")).to_have_text(CLIENT_BALANCE_NOV26.replace(" ", "\u00a0"))
    # The first beneficiary's nov/26 bill (R$ 168,11) is 62 % above nov/25's (R$ 103,78): a real alert; its
    # 0,90 kWh left over cannot be compensated (whole kWh) and raises no "credits_unused".
    expect(page.locator("#alertas li")).to_have_count(1)
    expect(page.locator("#alertas li[data-alert=amount_spike]")).to_contain_text("R$\u00a0168,11")
    expect(page.locator("#alertas li[data-alert=amount_spike]")).to_contain_text(f"Instalação {FIRST} ·")
    page.screenshot(path=shots / "relatorio-cliente.png", full_page=True)
    shown = _page_figures(page)
    assert sum(shown.values()) >= 4 * 13 * 8 and shown[f"R$ {CLIENT_CUMULATIVE}"] >= 2  # 4 tables, summary
    assert shown == _pdf_figures(page, f"{web.url}/unidades/{units[PLANT]}/cliente.pdf")
