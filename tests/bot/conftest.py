"""Bot tests: the real simulator, real Chromium, and the parametrised database."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import tomli_w

from config.context import AppContext
from config.settings import load_settings
from storage.engine import session_scope
from storage.models import UnitCreate
from storage.secrets import new_key
from storage.units import create_unit
from tests.simulator.fixtures import simulator, simulator_server  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bot_app(database_url, tmp_path, simulator):  # noqa: F811 - the simulator fixture
    """An AppContext on a fresh database whose CEMIG base URL is the simulator, with fast backoff."""
    config = tomllib.loads((ROOT / "playwright.config").read_text())
    config["utilities"]["cemig"]["base_url"] = simulator.url
    config["timeouts"]["action_ms"] = 8000
    browser_config = tmp_path / "playwright.config"
    browser_config.write_text(tomli_w.dumps(config))
    settings = load_settings({
        "HOME": str(tmp_path), "FATURAS_DATA_DIR": str(tmp_path / "data"), "FATURAS_DATABASE_URL": database_url,
        "FATURAS_SECRET_KEYS": new_key(), "FATURAS_PLAYWRIGHT_CONFIG": str(browser_config),
        "FATURAS_ADHESION_BACKOFF_S": "0.2",
    })
    app = AppContext(settings=settings)
    yield app
    app.close()


def add_unit(app: AppContext, customer, installation: str | None = None, **fields) -> int:
    """Register a unit whose portal credentials are the simulator customer's."""
    data = {"installation": customer.installations[0] if installation is None else installation,
            "client_name": customer.name,
            "holder_document": "52998224725", "portal_login": customer.document or customer.email,
            "portal_password": customer.password, "forward_to": ["cliente@example.com"]}
    data.update(fields)
    with session_scope(app.engine) as session:
        return create_unit(session=session, unit_in=UnitCreate(**data), keys=app.keys(),
                           inbox=app.inbox_policy).id
