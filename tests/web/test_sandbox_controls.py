"""Sandbox-only controls (present only with a sandbox) and the runner that hands adhesions to the service."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from config.context import AppContext
from simulator.portal.server import BackgroundServer
from storage.engine import session_scope
from storage.models import AdhesionStatus, Unit, UnitCreate
from tests.web.conftest import FakeRunner, Web, csrf_of, make_settings
from web.app import create_app
from web.sandbox import BillingRun, ClientMessage, SampleLogin
from web.services.adhesion import ServiceAdhesionRunner

SAMPLE = SampleLogin(client_name="Maria Aparecida Souza", holder_document="52998224725", installation="3001234567",
                     portal_login="52998224725", portal_password="Senha-Do-Portal-1", forward_to="maria@example.com",
                     pdf_password=None)


class FakeSandbox:
    """Records what the pages asked of the embedded stack."""

    simulator_url = "http://127.0.0.1:1"

    def __init__(self) -> None:
        self.cycles: list[str] = []
        self.added: list[UnitCreate] = []

    def samples(self) -> list[SampleLogin]:
        return [SAMPLE]

    def run_billing_cycle(self) -> BillingRun:
        self.cycles.append("2026-11")
        return BillingRun(cycle="2026-11", sent=1, failed=0)

    def client_messages(self, addresses: list[str]) -> list[ClientMessage]:
        return [ClientMessage(recipient=a, subject="Fatura CEMIG 11/2026", attachments=("conta.pdf",),
                              received_at=datetime(2026, 11, 28, 9, 30, tzinfo=UTC)) for a in addresses]

    def unit_added(self, unit_in: UnitCreate) -> bool:
        self.added.append(unit_in)
        return True


@pytest.fixture
def sandbox_web(database_url, tmp_path) -> Iterator[tuple[Web, FakeSandbox]]:
    app = AppContext(settings=make_settings(database_url, tmp_path))
    fake = FakeSandbox()
    with BackgroundServer(create_app(app, runner=FakeRunner(), sandbox=fake)) as server:
        served = Web(url=server.url, app=app)
        yield served, fake
        for client in served.clients:
            client.close()
    app.close()


def test_without_a_sandbox_there_are_no_sandbox_controls(web):
    web.user("ana@solar.example.com")
    client = web.login("ana@solar.example.com")
    page = client.get("/unidades")
    assert "Gerar faturas do mês" not in page.text
    assert "Clientes de exemplo" not in client.get("/unidades/nova").text
    assert client.post("/sandbox/faturas", data={"csrf_token": csrf_of(page)}).status_code == 404


def test_sandbox_pages_bill_prefill_and_show_the_clients_mailbox(sandbox_web):
    web, fake = sandbox_web
    web.user("ana@solar.example.com")
    client = web.login("ana@solar.example.com")

    form = client.get("/unidades/nova?exemplo=1")
    assert "Clientes de exemplo (sandbox)" in form.text and 'value="Senha-Do-Portal-1"' in form.text
    added = client.post("/unidades/nova", data={
        "csrf_token": csrf_of(form), "client_name": SAMPLE.client_name, "holder_document": SAMPLE.holder_document,
        "installation": SAMPLE.installation, "forward_to": SAMPLE.forward_to, "portal_login": SAMPLE.portal_login,
        "portal_password": SAMPLE.portal_password})
    assert added.status_code == 303 and "criados+no+simulador" in added.headers["location"]
    assert [u.installation for u in fake.added] == [SAMPLE.installation]

    unit_path = urlsplit(added.headers["location"]).path
    page = client.get(unit_path)
    assert "Caixa do cliente (sandbox)" in page.text and "conta.pdf" in page.text and "28/11/2026 09:30:00" in page.text
    billed = client.post("/sandbox/faturas", data={"csrf_token": csrf_of(page), "voltar": unit_path})
    assert billed.status_code == 303 and fake.cycles == ["2026-11"]
    target = urlsplit(billed.headers["location"])
    assert target.path == unit_path and "1 fatura(s) de 11/2026" in parse_qs(target.query)["msg"][0]
    elsewhere = client.post("/sandbox/faturas", data={"csrf_token": csrf_of(page), "voltar": "//evil.example/x"})
    assert urlsplit(elsewhere.headers["location"]).path == "/unidades"


def test_service_runner_queues_for_the_service_and_reports_running_until_the_bot_is_done(database_url, tmp_path):
    app = AppContext(settings=make_settings(database_url, tmp_path))
    woken: list[bool] = []
    runner = ServiceAdhesionRunner(app, wake=lambda: woken.append(True))
    with session_scope(app.engine) as session:
        unit = Unit(installation="3001234567", client_name="Maria", holder_document="52998224725",
                    inbox_address="uc-3001234567-abcd@faturas.example.com",
                    adhesion_status=AdhesionStatus.PORTAL_UNAVAILABLE.value,
                    adhesion_next_at=datetime(2099, 1, 1, tzinfo=UTC))
        session.add(unit)
        session.commit()
        unit_id = unit.id
        assert not runner.running(unit_id)  # waiting for its retry, nobody on it
        assert runner.queue(session=session, unit=unit) and woken == [True]
        assert unit.adhesion_status == "pending" and unit.adhesion_next_at is None  # due now
        assert runner.running(unit_id)
        assert not runner.queue(session=session, unit=unit) and woken == [True]  # not twice
    with session_scope(app.engine) as session:  # the service enrolled it
        unit = session.get(Unit, unit_id)
        unit.adhesion_status = AdhesionStatus.ENROLLED.value
    assert not runner.running(unit_id)
    with session_scope(app.engine) as session:  # a worker holds the lease
        session.get(Unit, unit_id).adhesion_lease_owner = "worker-1"
    assert runner.running(unit_id)
    app.close()
