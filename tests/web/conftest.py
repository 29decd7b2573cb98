"""Web tests: the real app served by uvicorn in a thread, on the parametrised database."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import tomli_w

from config.context import AppContext
from config.settings import load_settings
from simulator.portal.server import BackgroundServer
from storage.engine import session_scope
from storage.models import UnitCreate
from storage.secrets import new_key
from storage.units import create_unit
from tests.simulator.fixtures import simulator, simulator_server  # noqa: F401
from web.app import create_app
from web.services.accounts import add_user, new_api_token

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "senha-forte-123"


class FakeRunner:
    """Records queued adhesions instead of starting a browser (for tests that do not need one)."""

    def __init__(self) -> None:
        self.queued: list[int] = []

    def queue(self, *, session, unit) -> bool:  # noqa: ANN001
        self.queued.append(unit.id)
        return True

    def running(self, unit_id: int) -> bool:
        return False


@dataclass
class Web:
    """A served dashboard: its URL, AppContext, and helpers to make users, units and logged-in clients."""

    url: str
    app: AppContext
    clients: list[httpx.Client] = field(default_factory=list)
    runner: object = None

    def user(self, email: str, password: str = PASSWORD) -> int:
        with session_scope(self.app.engine) as session:
            return add_user(session=session, email=email, password=password, name=email.split("@")[0]).id

    def token(self, email: str) -> str:
        from storage.integrators import get_integrator

        with session_scope(self.app.engine) as session:
            return new_api_token(session=session, integrator=get_integrator(session=session, email=email), name="t")

    def unit(self, integrator_id: int | None, n: int = 1, **fields) -> int:
        from tests.factories import unit_in

        with session_scope(self.app.engine) as session:
            return create_unit(session=session, unit_in=unit_in(n, **fields), keys=self.app.keys(),
                               inbox=self.app.inbox_policy, integrator_id=integrator_id).id

    def client(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=30.0)
        self.clients.append(client)
        return client

    def login(self, email: str, password: str = PASSWORD) -> httpx.Client:
        client = self.client()
        response = client.post("/entrar", data={"email": email, "password": password,
                                                "csrf_token": csrf_of(client.get("/entrar"))})
        assert response.status_code == 303, response.text
        return client


def csrf_of(response: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert match, "page without a CSRF token"
    return match.group(1)


def make_settings(database_url: str, tmp_path: Path, simulator_url: str | None = None, **env: str):
    values = {"HOME": str(tmp_path), "FATURAS_DATA_DIR": str(tmp_path / "data"), "FATURAS_DATABASE_URL": database_url,
              "FATURAS_SECRET_KEYS": new_key(), "FATURAS_ADHESION_BACKOFF_S": "0.2",
              "FATURAS_INBOX_DOMAIN": "faturas.example.com"}
    if simulator_url:
        config = tomllib.loads((ROOT / "playwright.config").read_text())
        config["utilities"]["cemig"]["base_url"] = simulator_url
        config["timeouts"]["action_ms"] = 8000
        path = tmp_path / "playwright.config"
        path.write_text(tomli_w.dumps(config))
        values["FATURAS_PLAYWRIGHT_CONFIG"] = str(path)
    values.update(env)
    return load_settings(values)


@pytest.fixture
def fake_runner() -> FakeRunner:
    return FakeRunner()


@pytest.fixture
def web(database_url, tmp_path, fake_runner) -> Iterator[Web]:
    """The dashboard on a fresh database, with adhesions recorded by a fake runner."""
    app = AppContext(settings=make_settings(database_url, tmp_path))
    with BackgroundServer(create_app(app, runner=fake_runner)) as server:
        served = Web(url=server.url, app=app)
        yield served
        for client in served.clients:
            client.close()
    app.close()


@pytest.fixture
def live_web(database_url, tmp_path, simulator) -> Iterator[Web]:  # noqa: F811 - the simulator fixture
    """The dashboard with the real adhesion runner (background threads), the bot pointed at the simulator."""
    app = AppContext(settings=make_settings(database_url, tmp_path, simulator.url))
    fastapi_app = create_app(app)
    with BackgroundServer(fastapi_app) as server:
        served = Web(url=server.url, app=app)
        served.runner = fastapi_app.state.web.runner
        yield served
        served.runner.join()
        for client in served.clients:
            client.close()
    app.close()


def add_customer_unit(web: Web, integrator_id: int, customer) -> int:  # noqa: ANN001
    """A unit whose portal credentials are a simulator customer's."""
    data = {"installation": customer.installations[0], "client_name": customer.name,
            "holder_document": "52998224725", "portal_login": customer.document or customer.email,
            "portal_password": customer.password, "forward_to": ["cliente@example.com"]}
    with session_scope(web.app.engine) as session:
        return create_unit(session=session, unit_in=UnitCreate(**data), keys=web.app.keys(),
                           inbox=web.app.inbox_policy, integrator_id=integrator_id).id
