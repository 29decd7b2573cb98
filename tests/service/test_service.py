"""`faturas run` as real processes: three workers on PostgreSQL share 2000 bills and 60 adhesions, one is
SIGKILLed midway and the counts still hold; SIGTERM stops a worker cleanly; SQLite refuses a second worker."""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import func, select

from storage import migrate
from storage.engine import make_engine, session_scope
from storage.mail_models import Forward, Invoice, MailMessage
from storage.models import Unit, UnitCreate, Worker
from storage.secrets import KeyRing, new_key
from storage.units import create_unit
from tests.factories import make_cpf, unit_in
from tests.processor.conftest import INBOX_POLICY, PASSWORD, USER
from tests.processor.mime import bill_message

pytestmark = [pytest.mark.integration, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
BILL_UNITS, MONTHS, PENDING = 100, 20, 60


def _cycles(count: int) -> list[str]:
    return [f"{2025 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(1, count + 1)]


def _env(tmp_path: Path, database_url: str, key: str, dovecot, smtp, simulator_url: str | None) -> dict[str, str]:
    config = (ROOT / "playwright.config").read_text()
    if simulator_url:
        config = config.replace('base_url = "https://atende.cemig.com.br"', f'base_url = "{simulator_url}"')
    (tmp_path / "playwright.config").write_text(config)
    return {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path), "FATURAS_DATA_DIR": str(tmp_path / "data"),
        "FATURAS_DATABASE_URL": database_url, "FATURAS_SECRET_KEYS": key, "FATURAS_LOG_FORMAT": "json",
        "FATURAS_PLAYWRIGHT_CONFIG": str(tmp_path / "playwright.config"),
        "FATURAS_IMAP_HOST": dovecot.host, "FATURAS_IMAP_PORT": str(dovecot.imap_port), "FATURAS_IMAP_TLS": "none",
        "FATURAS_IMAP_USER": USER, "FATURAS_IMAP_PASSWORD": PASSWORD,
        "FATURAS_SMTP_HOST": smtp.host, "FATURAS_SMTP_PORT": str(smtp.port), "FATURAS_SMTP_TLS": "none",
        # The bills are signed with a key no DNS publishes here; DKIM itself is tested in tests/processor.
        "FATURAS_DKIM_POLICY": "off",
        "FATURAS_MAIL_POLL_INTERVAL_S": "2", "FATURAS_ADHESION_INTERVAL_S": "2", "FATURAS_OUTBOX_INTERVAL_S": "3",
        "FATURAS_ADHESION_BATCH": "3", "FATURAS_ADHESION_BACKOFF_S": "0.5",
    }


def _start(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "cli", "run"], env=env, cwd=ROOT, stdout=handle,
                                stderr=subprocess.STDOUT)


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(1)  # polling other processes' progress through the database
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _count(engine, query) -> int:
    with session_scope(engine) as session:
        return session.exec(query).one()


def _stop(process: subprocess.Popen) -> tuple[int, float]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=60)
    return code, time.monotonic() - started


def test_three_workers_share_the_work_and_survive_a_killed_worker(postgres, mail, simulator, tmp_path):
    dovecot, smtp = mail
    database_url = postgres.create_database()
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    key = new_key()
    keys = KeyRing((key,))
    rng = random.Random(60)
    with session_scope(engine) as session:
        for n in range(1, BILL_UNITS + 1):
            unit = create_unit(session=session, unit_in=unit_in(n), keys=keys, inbox=INBOX_POLICY)
            unit.inbox_address = f"uc-30{n:08d}-svc@faturas.example.com"
            unit.adhesion_status = "verified"
            session.add(unit)
        for n in range(PENDING):
            document, installation = make_cpf(rng), f"33{n:08d}"
            simulator.add_customer(name=f"Cliente {n}", document=document, email=f"p{n}@example.com",
                                   password=f"Senha-{n}!", installations=(installation,))
            create_unit(session=session, keys=keys, inbox=INBOX_POLICY, unit_in=UnitCreate(
                installation=installation, client_name=f"Cliente {n}", holder_document=document,
                portal_login=document, portal_password=f"Senha-{n}!", forward_to=[f"p{n}@example.com"]))
    messages = [bill_message(f"uc-30{n:08d}-svc@faturas.example.com", f"30{n:08d}", cycle)
                for cycle in _cycles(MONTHS) for n in range(1, BILL_UNITS + 1)]
    dovecot.deliver_many(USER, messages)
    total = len(messages)

    env = _env(tmp_path, database_url, key, dovecot, smtp, simulator.url)
    workers = [_start(env, tmp_path / f"worker-{i}.log") for i in range(3)]
    stored = select(func.count()).select_from(Invoice)
    _wait(lambda: _count(engine, stored) >= total // 4, 600, "a quarter of the bills to be stored")
    workers[1].send_signal(signal.SIGKILL)
    workers[1].wait(timeout=30)

    sent = select(func.count()).select_from(Forward).where(Forward.status == "sent")
    enrolled = select(func.count()).select_from(Unit).where(Unit.adhesion_status == "enrolled")
    settled = select(func.count()).select_from(MailMessage).where(MailMessage.settled_at.is_not(None))
    _wait(lambda: _count(engine, sent) == total and _count(engine, settled) == total
          and _count(engine, enrolled) == PENDING, 900, "every bill forwarded and every unit enrolled")
    for index in (0, 2):
        code, seconds = _stop(workers[index])
        assert code == 0 and seconds < 30, (index, code, seconds)

    # Every bill stored once and forwarded once, counted at the SMTP server too.
    assert _count(engine, stored) == total
    deliveries = smtp.spooled()
    per_invoice = collections.Counter(d["invoice"] for d in deliveries)
    assert len(per_invoice) == total
    with session_scope(engine) as session:
        unconfirmed = {f.message_id: f.unconfirmed_sends for f in session.exec(select(Forward))}
    per_message_id = collections.Counter(d["message_id"] for d in deliveries)
    assert set(per_message_id) == set(unconfirmed)
    # A second copy only if the killed worker died between the relay's accept and its commit: then the
    # survivor resends with the same Message-ID and counts it (processor/forward.py); never otherwise.
    assert all(n == 1 or n <= 1 + unconfirmed[mid] for mid, n in per_message_id.items())
    assert sum(unconfirmed.values()) <= 1  # one worker was killed, in one SMTP transaction at most
    assert dovecot.counts(USER) == {"INBOX": 0, "Processed": total, "Quarantine": 0}
    # Every pending unit enrolled with exactly one adhesion submission, counted by the simulator.
    installations = [i for c in simulator.admin.report()["customers"] for i in c["installations"]]
    assert len(installations) == PENDING
    assert all(i["enrolled"] and i["adhesion_submissions"] == 1 for i in installations)
    with session_scope(engine) as session:
        # The two stopped workers unregistered; only the killed one's row is left, with a stale heartbeat.
        assert len(session.exec(select(Worker)).all()) == 1
    engine.dispose()


def test_sigterm_during_a_pass_exits_0_and_the_next_run_finishes(postgres, mail, tmp_path):
    dovecot, smtp = mail
    database_url = postgres.create_database()
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    key = new_key()
    with session_scope(engine) as session:
        for n in range(1, 41):
            unit = create_unit(session=session, unit_in=unit_in(n), keys=KeyRing((key,)), inbox=INBOX_POLICY)
            unit.inbox_address = f"uc-30{n:08d}-term@faturas.example.com"
            unit.adhesion_status = "enrolled"
            session.add(unit)
    messages = [bill_message(f"uc-30{n:08d}-term@faturas.example.com", f"30{n:08d}", cycle)
                for cycle in _cycles(5) for n in range(1, 41)]
    dovecot.deliver_many(USER, messages)
    env = _env(tmp_path, database_url, key, dovecot, smtp, None)
    worker = _start(env, tmp_path / "worker.log")
    stored = select(func.count()).select_from(Invoice)
    _wait(lambda: _count(engine, stored) >= 10, 300, "the pass to be under way")
    code, seconds = _stop(worker)
    assert code == 0 and seconds < 30, (code, seconds, (tmp_path / "worker.log").read_text()[-2000:])
    assert "service_stopped" in (tmp_path / "worker.log").read_text()
    with session_scope(engine) as session:
        assert session.exec(select(Worker)).all() == []  # unregistered on the way out
    assert _count(engine, stored) < len(messages)  # it really stopped midway

    worker = _start(env, tmp_path / "worker-2.log")
    sent = select(func.count()).select_from(Forward).where(Forward.status == "sent")
    _wait(lambda: _count(engine, sent) == len(messages), 600, "the next run to finish the rest")
    code, _ = _stop(worker)
    assert code == 0
    assert _count(engine, stored) == len(messages)
    assert len({d["invoice"] for d in smtp.spooled()}) == len(smtp.spooled()) == len(messages)
    engine.dispose()


def test_sqlite_refuses_a_second_worker_with_a_clear_message(mail, tmp_path):
    dovecot, smtp = mail
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'faturas.db'}", new_key(), dovecot, smtp, None)
    first = _start(env, tmp_path / "first.log")
    engine = make_engine(f"sqlite:///{tmp_path / 'faturas.db'}")
    _wait(lambda: Path(tmp_path / "faturas.db").exists() and migrate.current_revision(engine) is not None
          and _count(engine, select(func.count()).select_from(Worker)) == 1, 120, "the first worker")
    second = subprocess.run([sys.executable, "-m", "cli", "run"], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert second.returncode == 3
    assert "SQLite supports one worker" in second.stderr and "PostgreSQL" in second.stderr
    code, seconds = _stop(first)
    assert code == 0 and seconds < 30
    engine.dispose()
