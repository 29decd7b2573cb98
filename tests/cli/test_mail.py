"""`faturas mail …` and `faturas invoices …` end to end: real Dovecot, real SMTP, real sample bills."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from cli.main import build_app
from cli.support import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_UNAVAILABLE, run_app
from tests.processor.conftest import PASSWORD, USER
from tests.processor.mime import bill_message
from tests.samples import SAMPLES

EDITED = {"fatura_cemig.pdf", "fatura_cemig_convencional.pdf"}


def _samples() -> list[Path]:
    if not SAMPLES.is_dir():
        pytest.skip(f"the real CEMIG samples are not at {SAMPLES}")
    return sorted(SAMPLES.glob("*.pdf"))


@pytest.fixture
def cli(monkeypatch, tmp_path, capsys, database_url, mail):
    dovecot, smtp = mail
    config = tmp_path / "faturas.toml"
    config.write_text(f"""
[mail]
dkim_policy = "warn"
reply_to = "suporte@integradora.example.com"
forward_backoff_seconds = 0
[[mail.accounts]]
name = "main"
host = "{dovecot.host}"
port = {dovecot.imap_port}
tls = "none"
user = "{USER}"
password = "{PASSWORD}"
[mail.smtp]
host = "{smtp.host}"
port = {smtp.port}
""")
    monkeypatch.setenv("FATURAS_CONFIG", str(config))
    monkeypatch.setenv("FATURAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FATURAS_DATABASE_URL", database_url)
    monkeypatch.setenv("FATURAS_LOG_FORMAT", "json")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("FATURAS_SECRET_KEYS", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = run_app(build_app(), list(args))
        out, err = capsys.readouterr()
        return code, out, err

    assert run("keys", "generate")[0] == 0
    return run


def _add_unit(cli, installation: str, *extra: str) -> dict:
    code, out, err = cli("units", "add", "-i", installation, "-n", "Cliente", "-d", "529.982.247-25",
                         "-f", "cliente@example.com", "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def test_invoices_parse_prints_one_object_per_file_in_order(cli, tmp_path):
    samples = _samples()
    junk = tmp_path / "not-a-bill.pdf"
    junk.write_bytes(b"hello")
    files = [*samples[:2], junk, *samples[2:]]
    code, out, _ = cli("invoices", "parse", "--json", *map(str, files))
    assert code == EXIT_FAILED
    results = json.loads(out)
    assert len(results) == len(files)
    assert results[2]["error_type"] == "BillUnreadable" and results[2]["file"] == str(junk)
    for path, result in zip(files, results, strict=True):
        if path == junk:
            continue
        failed = [name for name, ok in result["checks"].items() if not ok]
        if path.name in EDITED:
            assert failed, path.name
        else:
            assert failed == [], (path.name, failed)
            assert result["installation"] == path.name.split("-")[0]


def test_invoices_import_stores_the_real_samples_and_flags_the_edited_ones(cli, mail):
    _, smtp = mail
    samples = _samples()
    unit = _add_unit(cli, "3000055479")
    mine = [p for p in samples if p.name.startswith("3000055479-")]
    code, out, err = cli("invoices", "import", "--unit", str(unit["id"]), "--json", *map(str, mine))
    assert code == 0, err
    results = json.loads(out)
    assert [r["outcome"] for r in results] == ["new"] * 12 and {r["status"] for r in results} == {"parsed"}
    assert smtp.messages == []  # no --forward

    code, out, _ = cli("invoices", "import", "--unit", str(unit["id"]), "--json", str(mine[0]))
    assert json.loads(out)[0]["outcome"] == "duplicate"

    other = _add_unit(cli, "3004298116")
    edited = [p for p in samples if p.name in EDITED]
    code, out, _ = cli("invoices", "import", "--unit", str(other["id"]), "--json", "--forward", *map(str, edited))
    assert code == 0
    assert {r["status"] for r in json.loads(out)} == {"needs_review"}
    assert smtp.messages == []  # needs_review bills are never forwarded as if fine

    own = [p for p in samples if p.name.startswith("3004298116-")][:1]
    code, out, _ = cli("invoices", "import", "--unit", "3004298116", "--json", "--forward", *map(str, own))
    assert json.loads(out)[0]["status"] == "parsed" and len(smtp.messages) == 1


def _message_id(database_url: str, subject_part: str) -> int:
    from sqlmodel import select

    from storage.engine import make_engine, session_scope
    from storage.mail_models import MailMessage

    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            rows = [m for m in session.exec(select(MailMessage)) if subject_part in (m.subject or "")]
            assert len(rows) == 1, [m.subject for m in session.exec(select(MailMessage))]
            return rows[0].id or 0
    finally:
        engine.dispose()


def test_mail_poll_status_retry_and_reprocess(cli, mail, tmp_path, database_url):
    dovecot, smtp = mail
    unit = _add_unit(cli, "3000000001")
    dovecot.deliver(USER, bill_message(unit["inbox_address"], "3000000001", "2026-10", pdf_password="12345"))
    dovecot.deliver(USER, bill_message(unit["inbox_address"], "3000000001", "2026-09"))

    code, out, err = cli("mail", "poll", "--once", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["accounts"][0]["outcomes"] == {"pdf_locked": 1, "parsed": 1} and report["forwarded"] == 1

    code, out, _ = cli("mail", "status", "--json")
    status = json.loads(out)
    assert status["stages"] == {"pdf_locked": 1, "parsed": 1} and status["outbox"] == {"sent": 1}
    assert status["oldest_waiting"] is None
    assert "12345" not in out

    secret = tmp_path / "pdf.txt"
    secret.write_text("12345")
    assert cli("units", "update", str(unit["id"]), "--pdf-password-file", str(secret))[0] == 0
    code, out, _ = cli("mail", "reprocess", "--stage", "pdf_locked")
    assert code == 0 and "moved_back 1" in out
    assert dovecot.counts(USER)["INBOX"] == 1
    code, out, _ = cli("mail", "poll", "--once", "--json")
    assert json.loads(out)["accounts"][0]["outcomes"] == {"parsed": 1}
    assert len(smtp.messages) == 2

    code, _, err = cli("mail", "retry", "999")
    assert code == EXIT_NOT_FOUND and "no examined message" in err
    september = _message_id(database_url, "SET/2026")  # shards decide which message was claimed first
    code, out, _ = cli("mail", "retry", str(september))
    assert code == 0 and "moved_back" in out
    code, out, _ = cli("mail", "poll", "--once", "--json")
    assert json.loads(out)["accounts"][0]["outcomes"] == {"duplicate": 1} and len(smtp.messages) == 2


def test_mail_poll_without_an_account_is_a_configuration_error(monkeypatch, tmp_path, capsys, database_url):
    monkeypatch.setenv("FATURAS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FATURAS_DATABASE_URL", database_url)
    monkeypatch.delenv("FATURAS_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    code = run_app(build_app(), ["mail", "poll", "--once"])
    assert code == 3 and "no mail account" in capsys.readouterr().err


def test_mail_senders_lists_the_held_bills_by_signer_then_trust_sends_them_back_once(cli, mail, monkeypatch):
    import os

    from tests.processor.mime import sign_bytes
    from tests.processor.test_trusted_senders import BULK, bulk_key

    dovecot, smtp = mail
    config = Path(os.environ["FATURAS_CONFIG"])
    config.write_text(config.read_text().replace('dkim_policy = "warn"', 'dkim_policy = "require"'))
    unit = _add_unit(cli, "3000000001")
    raw = bill_message(unit["inbox_address"], "3000000001", "2026-11", sign=False)
    dovecot.deliver(USER, sign_bytes(raw, bulk_key()))
    code, out, _ = cli("mail", "poll", "--once", "--json")
    assert code == 0 and json.loads(out)["accounts"][0]["outcomes"] == {"dkim_failed": 1}

    code, out, _ = cli("mail", "senders", "--json")
    held = json.loads(out)["held"]
    assert code == 0 and [(g["signers"], g["from_domain"], g["messages"]) for g in held] == [
        ([BULK], "cemig.com.br", 1)]
    code, out, _ = cli("mail", "senders")
    assert BULK in out and "cemig: configured cemig.com.br; trusted -" in out

    code, out, _ = cli("mail", "senders", "trust", BULK, "--utility", "cemig")
    assert code == 0 and f"{BULK} trusted for cemig; 1 held message(s) sent back" in out
    assert dovecot.counts(USER)["INBOX"] == 1 and dovecot.counts(USER)["Quarantine"] == 0
    code, out, _ = cli("mail", "senders", "trust", BULK, "--utility", "cemig")
    assert code == 0 and "already trusted for cemig; 0 held" in out
    code, out, _ = cli("mail", "senders", "--json")
    assert json.loads(out)["held"] == [] and json.loads(out)["trusted"] == {"cemig": [BULK]}

    code, _, err = cli("mail", "senders", "trust", "not a domain", "--utility", "cemig")
    assert code != 0 and "not a domain name" in err
    assert cli("mail", "senders", "untrust", BULK, "--utility", "cemig")[0] == 0
    assert cli("mail", "senders", "untrust", BULK, "--utility", "cemig")[0] == EXIT_FAILED


def test_mail_poll_once_exits_unavailable_while_the_relay_is_down(cli, mail, tmp_path):
    dovecot, smtp = mail
    unit = _add_unit(cli, "3000000001")
    dovecot.deliver(USER, bill_message(unit["inbox_address"], "3000000001", "2026-10"))
    config = tmp_path / "faturas.toml"
    healthy = config.read_text()
    with socket.socket() as probe:  # a port nobody listens on: the relay is down
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    config.write_text(healthy.replace(f"port = {smtp.port}", f"port = {dead_port}"))

    code, out, _ = cli("mail", "poll", "--once", "--json")
    assert code == EXIT_UNAVAILABLE
    report = json.loads(out)
    assert report["relay_unavailable"] and report["forwarded"] == 0
    assert report["accounts"][0]["outcomes"] == {"parsed": 1}  # stored: only its forward waits
    assert smtp.messages == []

    config.write_text(healthy)
    code, out, _ = cli("mail", "poll", "--once", "--json")
    assert code == 0 and json.loads(out)["forwarded"] == 1 and len(smtp.messages) == 1
