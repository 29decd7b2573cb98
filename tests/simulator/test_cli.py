"""`faturas simulator` commands against a running simulator."""

import json

import pytest
import typer
from typer.testing import CliRunner

from simulator.cli import app


@pytest.fixture
def run(simulator):
    runner = CliRunner()
    env = {"FATURAS_SIMULATOR_URL": simulator.url, "FATURAS_SIMULATOR_ADMIN_TOKEN": simulator.admin_token,
           "COLUMNS": "200"}

    def invoke(*args: str):
        return runner.invoke(app, list(args), env=env)

    return invoke


def _commands(group: typer.Typer, prefix=()):
    for info in group.registered_commands:
        yield (*prefix, info.name or info.callback.__name__)
    for sub in group.registered_groups:
        yield from _commands(sub.typer_instance, (*prefix, sub.name))


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    commands = list(_commands(app))
    assert {("serve",), ("report",), ("reset",), ("customer", "add"), ("installation", "add"),
            ("scenario", "set")} <= set(commands)
    for command in commands:
        result = runner.invoke(app, [*command, "--help"], terminal_width=200)
        assert result.exit_code == 0, command
        assert "Example: faturas simulator" in result.output, command


def test_customer_installation_scenario_report_reset(run, simulator):
    added = run("customer", "add", "--name", "Maria Souza", "--document", "123.456.789-09",
                "--email", "maria@example.com", "--password", "segredo")
    assert added.exit_code == 0, added.output
    inst = run("installation", "add", "12345678909", "3000055479", "--enrolled", "--address", "RUA X 10")
    assert inst.exit_code == 0, inst.output
    assert "3000055479" in inst.output
    scenario = run("scenario", "set", "--customer", "12345678909", "--variant", "legacy", "--captcha", "checkbox",
                   "--fault", "conta_digital:503:2", "--fault", "home:500:always",
                   "--fault", "adhesion_confirm:500:1:after",
                   "--expire-at", "adhesion_terms",
                   "--modal", "--delay", "0.5", "--delay-step", "home")
    assert scenario.exit_code == 0, scenario.output
    saved = simulator.admin.scenario("12345678909")
    assert saved["variant"] == "legacy" and saved["post_login_modal"] is True
    assert saved["faults"] == [
        {"step": "conta_digital", "status": 503, "times": 2, "when": "before"},
        {"step": "home", "status": 500, "times": None, "when": "before"},
        {"step": "adhesion_confirm", "status": 500, "times": 1, "when": "after"}]
    assert saved["session_expiry"]["step"] == "adhesion_terms"
    site = run("scenario", "set", "--json", '{"captcha": "always-fail"}')
    assert site.exit_code == 0 and simulator.admin.scenario()["captcha"] == "always-fail"

    table = run("report")
    assert table.exit_code == 0
    assert "Maria Souza" in table.output and "3000055479" in table.output
    as_json = json.loads(run("report", "--json").output)
    assert as_json["customers"][0]["installations"][0]["enrolled"] is True

    assert run("reset").exit_code == 0
    assert simulator.admin.report()["customers"] == []


def test_admin_errors_become_a_message_and_exit_code(run):
    result = run("installation", "add", "00000000000", "3000055479")
    assert result.exit_code == 3
    assert "unknown customer" in result.output


def test_wrong_token_is_reported(simulator):
    result = CliRunner().invoke(app, ["report", "--url", simulator.url, "--admin-token", "wrong"])
    assert result.exit_code == 3
    assert "401" in result.output
