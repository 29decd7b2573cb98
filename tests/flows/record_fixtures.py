"""Re-record the committed HAR fixtures against the simulator: `.venv/bin/python -m tests.flows.record_fixtures`.

Each fixture is a real adhesion run on a fresh simulator, recorded and scrubbed by `faturas record`'s code.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bot.har import record_unit
from config.context import AppContext
from config.settings import load_settings
from simulator.portal.app import create_app
from simulator.portal.client import AdminClient
from simulator.portal.server import BackgroundServer
from simulator.portal.store import Store
from storage.engine import session_scope
from storage.models import UnitCreate
from storage.secrets import new_key
from storage.units import create_unit

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PASSWORD = "Senha@Fixture-123"  # a throw-away simulator password; scrubbed from the fixture anyway
SCENARIOS = {
    "cemig-new-fresh": {"variant": "new"},
    "cemig-legacy-fresh": {"variant": "legacy"},
    "cemig-agv-fresh": {"variant": "agv"},
    "cemig-spa-fresh": {"variant": "spa"},
    "cemig-mui-fresh": {"variant": "mui"},
}


def record(name: str, scenario: dict, workdir: Path) -> Path:
    """Record one scenario into FIXTURES/<name>.har.zip."""
    store = Store(":memory:")
    with BackgroundServer(create_app(store, admin_token="rec")) as server, AdminClient(server.url, "rec") as admin:
        admin.set_scenario(scenario)
        customer = admin.add_customer(name="Maria Aparecida Souza", document="123.456.789-09",
                                      email="maria.souza@example.com", password=PASSWORD, scenario=scenario)
        admin.add_installation(customer["id"], "3000055479")
        (workdir / "playwright.config").write_text(
            Path("playwright.config").read_text().replace('base_url = "https://atende.cemig.com.br"',
                                                          f'base_url = "{server.url}"'))
        settings = load_settings({"HOME": str(workdir), "FATURAS_DATA_DIR": str(workdir / name),
                                  "FATURAS_SECRET_KEYS": new_key(),
                                  "FATURAS_PLAYWRIGHT_CONFIG": str(workdir / "playwright.config"),
                                  "FATURAS_INBOX_PATTERN": "uc-{installation}-{token}"})
        app = AppContext(settings=settings)
        with session_scope(app.engine) as session:
            unit = create_unit(session=session, keys=app.keys(), inbox=app.inbox_policy, unit_in=UnitCreate(
                installation="3000055479", client_name="Maria Aparecida Souza", holder_document="52998224725",
                portal_login="12345678909", portal_password=PASSWORD))
            unit_id, inbox = unit.id, unit.inbox_address
        out = FIXTURES / f"{name}.har.zip"
        outcome = record_unit(app, str(unit_id), out)
        app.close()
    store.close()
    if outcome.failed:
        raise SystemExit(f"{name}: the recording run ended {outcome.status.value}: {outcome.message}")
    (FIXTURES / f"{name}.target").write_text(inbox + "\n")
    return out


def main() -> None:
    """Record every scenario."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, scenario in SCENARIOS.items():
            print(record(name, scenario, Path(tmp)), file=sys.stderr)  # noqa: T201


if __name__ == "__main__":
    main()
