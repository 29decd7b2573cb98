"""`faturas adhere` end to end: 50 units through the CLI against the simulator, then `show` and `artifacts`."""

from __future__ import annotations

import random

import pytest

from cli.main import build_app
from cli.support import EXIT_FAILED, run_app
from storage.adhesion import attempts_of
from storage.engine import session_scope
from storage.units import get_unit
from tests.factories import make_cpf

pytestmark = pytest.mark.browser


@pytest.fixture
def cli(bot_app, monkeypatch, capsys):
    settings = bot_app.settings
    monkeypatch.setenv("FATURAS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("FATURAS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FATURAS_SECRET_KEYS", settings.secret_keys)
    monkeypatch.setenv("FATURAS_PLAYWRIGHT_CONFIG", str(settings.playwright_config))
    monkeypatch.setenv("FATURAS_ADHESION_BACKOFF_S", "0.2")
    monkeypatch.setenv("FATURAS_LOG_FORMAT", "json")
    monkeypatch.setenv("COLUMNS", "250")

    def run(*args: str) -> tuple[int, str, str]:
        code = run_app(build_app(), list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_fifty_units_enrolled_by_one_all_pending_run(cli, simulator, tmp_path):
    rng = random.Random(50)
    rows = ["installation,client_name,holder_document,portal_login,portal_password"]
    for n in range(50):
        document = make_cpf(rng)
        installation = f"31{n:08d}"
        simulator.add_customer(name=f"Cliente {n}", document=document, email=f"c{n}@example.com",
                               password=f"Senha-{n}!", installations=(installation,))
        rows.append(f"{installation},Cliente {n},{document},{document},Senha-{n}!")
    csv_path = tmp_path / "units.csv"
    csv_path.write_text("\n".join(rows) + "\n")
    assert cli("units", "import", str(csv_path))[0] == 0
    code, out, err = cli("adhere", "--all-pending", "--concurrency", "4")
    assert code == 0, out + err
    assert "50 enrolled, 0 not enrolled" in out
    report = simulator.admin.report()
    installations = [i for c in report["customers"] for i in c["installations"]]
    assert len(installations) == 50 and all(i["enrolled"] for i in installations)
    assert sum(i["adhesion_submissions"] for i in installations) == 50
    emails = {c["email"] for c in report["customers"]}
    assert all(e.startswith("uc-31") and e.endswith("@faturas.example.com") for e in emails) and len(emails) == 50
    code, out, _ = cli("adhere", "--all-pending")
    assert code == 0 and "no unit waits for the bot" in out


def test_failed_unit_exit_code_history_and_artifacts(cli, bot_app, simulator, tmp_path):
    customer = simulator.add_customer()
    code, out, _ = cli("units", "add", "-i", "3999999999", "-n", "Maria", "-d", "52998224725",
                       "--portal-login", customer.document, "--json")
    assert code == 0
    code, _, err = cli("adhere", "3999999999")
    assert code == EXIT_FAILED  # no password registered: invalid_credentials at once
    password_file = tmp_path / "pw"
    password_file.write_text(customer.password)
    assert cli("units", "update", "3999999999", "--portal-password-file", str(password_file))[0] == 0
    code, out, _ = cli("adhere", "3999999999")
    assert code == EXIT_FAILED and "installation_not_found" in out and "0 enrolled, 1 not enrolled" in out
    code, out, _ = cli("adhere", "show", "3999999999")
    assert code == 0 and "installation_not_found (next: integrator)" in out
    assert "failure.png" in out and "trace-1.zip" in out and "playwright show-trace" in out
    with session_scope(bot_app.engine) as session:
        unit = get_unit(session=session, ref="3999999999")
        attempt_id = attempts_of(session=session, unit_id=unit.id)[0].id
    code, out, _ = cli("adhere", "artifacts", str(attempt_id), "--out", str(tmp_path / "art"))
    assert code == 0
    assert (tmp_path / "art" / "failure.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "art" / "trace-1.zip").read_bytes().startswith(b"PK")


def test_a_wording_outside_the_vocabulary_is_portal_changed_and_show_prints_its_aria_snapshot(cli, bot_app,
                                                                                            simulator):
    from simulator.portal.perturb import Perturbation
    from tests.bot.conftest import add_unit

    seed = next(s for s in range(1, 500) if not Perturbation.of(s).solvable)
    simulator.admin.set_scenario({"variant": "spa"})
    customer = simulator.add_customer(password="Senha-Secreta-Evidencia-9",
                                      scenario={"variant": "spa", "perturb_seed": seed})
    add_unit(bot_app, customer)
    code, out, err = cli("adhere", customer.installations[0])
    assert code == EXIT_FAILED and "portal_changed" in out
    code, out, _ = cli("adhere", "show", customer.installations[0])
    assert code == 0 and "ARIA snapshot of the page:" in out and "waiting for:" in out
    assert "- heading" in out  # the snapshot itself, in Playwright's YAML form
    assert customer.password not in out
    report = simulator.admin.report()
    assert not [e for e in report["events"] if e["kind"] == "destructive_clicked"]
    assert all(i["adhesion_submissions"] == 0 for c in report["customers"] for i in c["installations"])
