"""Each alert, raised by generated bills built to trigger it, is shown on the unit's report page in Chromium.

Ana's units get the triggering bills; Bia's units get their normal twins and show no alert. An installation is
registered once, so Bia's twins are the same profiles moved to installation number + 60 (their own seeds; checked
to raise nothing). The alert records of the exact twins are checked in tests/reports/test_generated_alerts.py.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from storage.engine import session_scope
from storage.models import Unit
from tests.processor.mime import bill
from tests.processor.test_payee import FRAUD_KEY, _forged
from tests.reports.alert_bills import CASES
from tests.reports.client_bills import generated
from tests.web.conftest import PASSWORD, Web, csrf_of

pytestmark = pytest.mark.browser

TWIN_OFFSET = 60
MISSING = {True: "3000000019", False: "3000000079"}  # (triggering?) → installation
PAYEE = {True: "3000000017", False: "3000000081"}  # 3000000077's nov/26 is a real consumption spike
TITLES = {"consumption_spike": "Consumo acima da média", "amount_spike": "Valor acima do mesmo mês do ano anterior",
          "credits_growing": "Créditos acumulando", "credits_unused": "Energia compensada abaixo do possível",
          "reading_estimated": "Consumo sem leitura do medidor", "bill_missing": "Fatura não chegou",
          "payee_mismatch": "Fatura com pagamento para terceiros"}


def _upload(web: Web, email: str, unit_id: int, files: list[tuple[str, bytes]]) -> None:
    client = web.login(email)
    form = client.get(f"/unidades/{unit_id}")
    response = client.post(f"/unidades/{unit_id}/faturas", data={"csrf_token": csrf_of(form)},
                           files=[("arquivos", (name, pdf, "application/pdf")) for name, pdf in files])
    assert response.status_code == 200, response.text


def _units(web: Web, email: str, *, triggering: bool) -> dict[str, int]:
    """One unit per alert, with the triggering bills (Ana) or their normal twins (Bia)."""
    owner = web.user(email)
    shift = 0 if triggering else TWIN_OFFSET
    units = {}
    for code, (installation, cycles, trigger, normal) in CASES.items():
        number = int(installation[-2:]) + shift
        units[code] = web.unit(owner, number)
        prof = trigger if triggering else dataclasses.replace(normal, installation=f"30{number:08d}")
        _upload(web, email, units[code], [(f"{c}.pdf", generated(prof, c).pdf) for c in cycles])
    missing = MISSING[triggering]
    units["bill_missing"] = web.unit(owner, int(missing[-2:]))
    _upload(web, email, units["bill_missing"], [("2026-11.pdf", bill(missing, "2026-11").pdf)])
    with session_scope(web.app.engine) as session:
        unit = session.exec(select(Unit).where(Unit.id == units["bill_missing"])).one()
        unit.adhesion_status = "bill_overdue" if triggering else "verified"
        session.add(unit)
    payee = PAYEE[triggering]
    units["payee_mismatch"] = web.unit(owner, int(payee[-2:]))
    pdf = _forged(payee, "2026-11", pix_key=FRAUD_KEY).pdf if triggering else bill(payee, "2026-11").pdf
    _upload(web, email, units["payee_mismatch"], [("2026-11.pdf", pdf)])
    return units


def _login(page: Page, web: Web, email: str) -> None:
    page.goto(f"{web.url}/entrar")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("button", name="Sair")).to_be_visible()


def test_each_alert_is_shown_on_the_report_page_and_not_for_the_normal_twin(page: Page, web: Web, output_path):
    triggered = _units(web, "ana@solar.example.com", triggering=True)
    normal = _units(web, "bia@solar.example.com", triggering=False)
    shots = Path(output_path)

    _login(page, web, "ana@solar.example.com")
    for code, unit_id in triggered.items():
        page.goto(f"{web.url}/unidades/{unit_id}/relatorio")
        item = page.locator(f"#alertas li[data-alert={code}]")
        expect(item).to_have_count(1)
        expect(item).to_contain_text(TITLES[code])
        expect(item).to_contain_text("Quem deve agir")
        page.locator("#alertas").screenshot(path=shots / f"alerta-{code}.png")

    page.context.clear_cookies()
    _login(page, web, "bia@solar.example.com")
    for unit_id in normal.values():
        page.goto(f"{web.url}/unidades/{unit_id}/relatorio")
        expect(page.locator("#alertas")).to_contain_text("Nenhum alerta.")
        expect(page.locator("#alertas li")).to_have_count(0)
    page.screenshot(path=shots / "relatorio-sem-alertas.png", full_page=True)
