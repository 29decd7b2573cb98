import csv
import json
import random
import subprocess
import sys

import pytest

from cli.main import build_app
from cli.support import EXIT_CONFIG, EXIT_DUPLICATE, EXIT_FAILED, EXIT_INPUT, EXIT_NOT_FOUND, run_app
from tests.factories import make_cnpj, make_cpf
from tests.helpers import database_dump

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(monkeypatch, tmp_path, capsys, database_url):
    """Run `faturas ARGS` in-process against the parametrised database; returns (code, stdout, stderr)."""
    monkeypatch.setenv("FATURAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FATURAS_DATABASE_URL", database_url)
    monkeypatch.setenv("FATURAS_LOG_FORMAT", "json")
    monkeypatch.setenv("FATURAS_LOG_LEVEL", "debug")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("FATURAS_SECRET_KEYS", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = run_app(build_app(), list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _walk(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


def test_every_command_has_help_with_an_example():
    import typer

    root = typer.main.get_command(build_app())
    missing = [" ".join(path) for path, command in _walk(root)
               if path and not getattr(command, "commands", None) and "Example:" not in (command.help or "")]
    assert missing == []


def test_units_lifecycle_through_the_cli(cli, tmp_path):
    assert cli("keys", "generate")[0] == 0
    secret = tmp_path / "pw.txt"
    secret.write_text("Portal-Senha-555\n")
    code, out, err = cli("units", "add", "-i", "3000055479", "-n", "Maria Silva", "-d", "529.982.247-25",
                         "--portal-login", "maria@example.com", "--portal-password-file", str(secret),
                         "-f", "maria@example.com", "-f", "joao@example.com", "--json")
    assert code == 0, err
    unit = json.loads(out)
    assert unit["has_portal_password"] is True and unit["has_pdf_password"] is False
    assert unit["inbox_address"].startswith("uc-3000055479-")

    code, out, _ = cli("units", "show", "3000055479")
    assert code == 0
    assert "E-mail para cadastro na concessionária" in out and unit["inbox_address"] in out
    assert "E-mail para receber as faturas" in out and "maria@example.com, joao@example.com" in out
    assert "Ativar faturas por e-mail" in out and "PDF password" in out and "not set" in out
    assert "Portal-Senha-555" not in out

    pdf = tmp_path / "pdf.txt"
    pdf.write_text("52998")
    assert cli("units", "update", "3000055479", "--pdf-password-file", str(pdf), "--no-email-bills")[0] == 0
    shown = json.loads(cli("units", "show", str(unit["id"]), "--json")[1])
    assert shown["has_pdf_password"] is True and shown["email_bills_enabled"] is False

    code, _, err = cli("units", "add", "-i", "3000055479", "-n", "Outra", "-d", "52998224725")
    assert code == EXIT_DUPLICATE and "already registered" in err

    assert cli("units", "remove", "3000055479", "--yes")[0] == 0
    code, _, err = cli("units", "show", "3000055479")
    assert code == EXIT_NOT_FOUND and "no unit" in err


@pytest.mark.parametrize("typed", [("-i", "4.533.142.018-50"), ("--uc", "4.533.142.018-50"),
                                   ("--uc", "000453314201850")])
def test_a_uc_code_is_accepted_as_printed_where_an_installation_is(cli, typed):
    code, out, err = cli("units", "add", *typed, "-n", "Maria", "-d", "52998224725", "--json")
    assert code == 0, err
    unit = json.loads(out)
    assert (unit["installation"], unit["uc_code"]) == (None, "000453314201850")
    assert cli("units", "show", "4.533.142.018-50")[0] == 0


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--uc", "4.533.142.018-5", "-n", "x", "-d", "52998224725"], EXIT_INPUT, "15-digit UC code"),
    (["-i", "123", "-n", "x", "-d", "52998224725"], EXIT_INPUT, "10-digit"),
    (["-i", "3000055479", "-n", "x", "-d", "52998224726"], EXIT_INPUT, "check digits"),
    (["-i", "3000055479", "-n", "x", "-d", "52998224725", "-f", "nope"], EXIT_INPUT, "not a valid e-mail"),
])
def test_invalid_input_gets_a_clear_message_and_its_exit_code(cli, args, code, message):
    result, _, err = cli("units", "add", *args)
    assert result == code and message in err


def test_secrets_without_a_key_stop_with_how_to_create_one(cli, tmp_path):
    secret = tmp_path / "pw.txt"
    secret.write_text("abc12345")
    code, _, err = cli("units", "add", "-i", "3000055479", "-n", "x", "-d", "52998224725",
                       "--portal-password-file", str(secret))
    assert code == EXIT_CONFIG and "faturas keys generate" in err


def test_import_2000_rows_keeps_the_good_ones_and_reports_the_bad(cli, tmp_path, database_url):
    rng = random.Random(2000)
    path = tmp_path / "units.csv"
    bad: dict[int, str] = {}  # file line -> column expected in the report
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["installation", "client_name", "holder_document", "portal_login", "portal_password",
                         "forward_to", "email_bills_enabled", "pdf_password"])
        for n in range(2000):
            line = n + 2
            doc = make_cpf(rng) if n % 3 else make_cnpj(rng)
            row = [f"31{n:08d}", f"Cliente {n}", doc, doc, f"SenhaPortal{n:04d}!", f"c{n}@example.com", "sim",
                   f"PdfPw{n:04d}"]
            if n % 100 == 7:  # 20 bad rows of several kinds
                kind = (n // 100) % 5
                if kind == 0:
                    row[2] = doc[:-1] + str((int(doc[-1]) + 1) % 10)
                    bad[line] = "holder_document"
                elif kind == 1:
                    row[0] = "12345"
                    bad[line] = "installation"
                elif kind == 2:
                    row[5] = "sem-arroba"
                    bad[line] = "forward_to"
                elif kind == 3:
                    row[1] = ""
                    bad[line] = "client_name"
                else:
                    row[0] = f"31{n - 1:08d}"  # repeats the previous row's installation
                    bad[line] = "installation"
            writer.writerow(row)
    assert len(bad) == 20
    assert cli("keys", "generate")[0] == 0
    report = tmp_path / "rejected.csv"
    code, out, err = cli("units", "import", str(path), "--report", str(report))
    assert code == EXIT_FAILED
    assert "1980 unit(s) imported, 20 row(s) rejected" in out
    rows = list(csv.DictReader(report.read_text(encoding="utf-8").splitlines()))
    assert {int(r["line"]): r["column"] for r in rows} == bad
    assert all(r["reason"] for r in rows)
    listed = cli("units", "list", "--json")[1].splitlines()
    assert len(listed) == 1980

    # Passwords of the imported rows are nowhere in the database or the logs.
    dump = database_dump(database_url)
    assert b"uc-3100000000-" in dump
    for n in (0, 1, 500, 1999):
        assert f"SenhaPortal{n:04d}!".encode() not in dump
        assert f"PdfPw{n:04d}".encode() not in dump
        assert f"SenhaPortal{n:04d}!" not in err and f"PdfPw{n:04d}" not in err
    assert '"event": "unit_created"' in err  # the logs were really captured


def test_a_csv_takes_uc_codes_as_printed_in_either_column(cli, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("installation;uc_code;client_name;holder_document\n"
                    "4.533.142.018-50;;A;52998224725\n;2.777.942.018-25;B;11144477735\n;1.234;C;52998224725\n")
    code, out, _ = cli("units", "import", str(path))
    assert code == 1 and "2 unit(s) imported, 1 row(s) rejected" in out
    listed = [json.loads(line) for line in cli("units", "list", "--json")[1].splitlines()]
    assert sorted(unit["uc_code"] for unit in listed) == ["000277794201825", "000453314201850"]


def test_a_csv_with_an_unknown_column_is_refused_whole(cli, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("installation,client_name,holder_document,telefone\n3000055479,A,52998224725,123\n")
    code, _, err = cli("units", "import", str(path))
    assert code == EXIT_INPUT and "telefone" in err


def test_export_then_import_round_trips_the_example_file(cli, tmp_path):
    assert cli("keys", "generate")[0] == 0
    code, out, _ = cli("units", "import", str(ROOT / "examples" / "units.csv"))
    assert code == 0 and "3 unit(s) imported, 0 row(s) rejected" in out
    exported = tmp_path / "export.csv"
    assert cli("units", "export", str(exported))[0] == 0
    rows = list(csv.DictReader(exported.read_text(encoding="utf-8").splitlines()))
    assert [r["installation"] or r["uc_code"] for r in rows] == ["3001234567", "3007654321", "300000000123456"]
    assert rows[1]["forward_to"] == "financeiro@padaria.example;dono@padaria.example"
    assert all(r["portal_password"] == "" and r["pdf_password"] == "" for r in rows)
    assert rows[2]["email_bills_enabled"] == "não"
    # Re-importing the export finds every installation already registered.
    code, out, _ = cli("units", "import", str(exported))
    assert code == EXIT_FAILED and "0 unit(s) imported, 3 row(s) rejected" in out


def test_key_rotation_through_the_cli_keeps_secrets_readable(cli, tmp_path):
    assert cli("keys", "generate")[0] == 0
    assert cli("keys", "generate")[0] == EXIT_CONFIG  # never silently overwrites a key
    assert cli("units", "import", str(ROOT / "examples" / "units.csv"))[0] == 0
    key_file = tmp_path / "data" / "keys" / "faturas.key"
    before = key_file.read_text()
    code, out, _ = cli("keys", "rotate")
    # 1 PDF password on a unit, 2 portal passwords on the portal logins (the only copies since 0015)
    assert code == 0 and "re-encrypted 3 secret(s)" in out
    assert key_file.read_text() != before
    from config.context import AppContext
    from config.settings import load_settings
    from storage.engine import session_scope
    from storage.units import get_unit, pdf_password

    app = AppContext(settings=load_settings())
    with session_scope(app.engine) as session:
        assert pdf_password(unit=get_unit(session=session, ref="3007654321"), keys=app.keys()) == "11444"
    app.close()


def test_console_script_runs(tmp_path):
    """`python -m cli` from the checkout, and the installed `faturas` console script from anywhere else."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    faturas = str(__import__("pathlib").Path(sys.executable).parent / "faturas")
    for argv, cwd in (([sys.executable, "-m", "cli"], ROOT), ([faturas], tmp_path)):
        result = subprocess.run([*argv, "--help"], capture_output=True, text=True, env=env, cwd=cwd)
        assert result.returncode == 0 and "units" in result.stdout and "simulator" in result.stdout, argv


def test_first_use_creates_and_migrates_the_embedded_database(tmp_path, monkeypatch, capsys):
    from storage import migrate
    from storage.engine import make_engine

    monkeypatch.setenv("FATURAS_DATA_DIR", str(tmp_path / "fresh"))
    monkeypatch.delenv("FATURAS_DATABASE_URL", raising=False)
    monkeypatch.setenv("FATURAS_LOG_FORMAT", "json")
    assert run_app(build_app(), ["units", "list"]) == 0
    assert "0 unit(s)" in capsys.readouterr().out
    database = tmp_path / "fresh" / "faturas.db"
    engine = make_engine(f"sqlite:///{database}")
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    engine.dispose()
