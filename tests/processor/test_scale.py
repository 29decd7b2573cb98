"""Done-when of the mail processor: 500 bills for 100 units in one pass through real Dovecot and SMTP;
SIGKILL at random points then a clean pass; the SMTP relay down during a pass."""

from __future__ import annotations

import collections
import functools
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import func, select

from storage.engine import session_scope
from storage.mail_models import Forward, Invoice, MailMessage
from storage.units import create_unit
from tests.factories import unit_in
from tests.processor.conftest import INBOX_POLICY, PASSWORD
from tests.processor.mime import bill_message, cemig_key

ROOT = Path(__file__).resolve().parents[2]
UNITS, CYCLES = 100, ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10")


@functools.lru_cache(maxsize=1)
def _scale_messages() -> tuple[bytes, ...]:
    """The 500 bill e-mails, built once per session (the units get these fixed inbox addresses)."""
    return tuple(bill_message(_address(n), f"30{n:08d}", cycle) for cycle in CYCLES for n in range(1, UNITS + 1))


def _address(n: int) -> str:
    return f"uc-30{n:08d}-scale@faturas.example.com"


def _bills_for(world) -> tuple[bytes, ...]:
    """Register the 100 units (with fixed inbox addresses) and return their 500 bill e-mails."""
    with session_scope(world.engine) as session:
        for n in range(1, UNITS + 1):
            unit = create_unit(session=session, unit_in=unit_in(n), keys=world.keys, inbox=INBOX_POLICY)
            unit.inbox_address = _address(n)
            session.add(unit)
    return _scale_messages()


def _count(world, model) -> int:
    with session_scope(world.engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def _assert_exactly_once(world, deliveries: list[dict]) -> None:
    """Each bill stored once, forwarded once; every message filed; the SMTP server saw no second forward."""
    total = UNITS * len(CYCLES)
    with session_scope(world.engine) as session:
        invoices = session.exec(select(Invoice)).all()
        forwards = session.exec(select(Forward)).all()
        messages = session.exec(select(MailMessage)).all()
    assert len(invoices) == total and {i.version for i in invoices} == {1}
    assert len({(i.unit_id, i.reference_month) for i in invoices}) == total
    assert len(forwards) == total and {f.status for f in forwards} == {"sent"}
    assert collections.Counter(m.stage for m in messages) == {"parsed": total}
    assert all(m.settle_folder == "Processed" and m.settled_at for m in messages)
    assert world.counts() == {"INBOX": 0, "Processed": total, "Quarantine": 0}
    by_message_id = collections.Counter(d["message_id"] for d in deliveries)
    assert set(by_message_id) == {f.message_id for f in forwards}  # each forward reached the server
    unconfirmed = {f.message_id: f.unconfirmed_sends for f in forwards}
    extra = {mid: n for mid, n in by_message_id.items() if n > 1}
    # A copy beyond the first can only come from a worker killed between the relay's accept and our commit,
    # and it carries the same Message-ID (see processor/forward.py); none otherwise.
    assert all(n <= 1 + unconfirmed[mid] for mid, n in extra.items()), extra
    assert len({(d["invoice"], tuple(d["rcpt"])) for d in deliveries}) == total


@pytest.mark.integration
def test_500_bills_for_100_units_in_one_pass(world):
    messages = _bills_for(world)
    world.deliver(*messages)
    report = world.poll()
    assert report.outcomes == {"parsed": UNITS * len(CYCLES)} and report.forwarded == UNITS * len(CYCLES)
    _assert_exactly_once(world, world.smtp.spooled())
    assert world.poll().forwarded == 0 and len(world.smtp.messages) == UNITS * len(CYCLES)


def _spec(world, tmp_path: Path) -> Path:
    settings = world.settings.model_dump(mode="json")
    settings["accounts"][0]["password"] = PASSWORD
    spec = {"database_url": world.engine.url.render_as_string(hide_password=False), "settings": settings,
            "blobs": str(world.blobs.root), "keys": list(world.keys.keys),
            "dns": {cemig_key().record_name: cemig_key().dns_txt}}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return path


def _run_and_kill(spec: Path, kill_after: int | None) -> str:
    """Run one pass in a child; SIGKILL it after `kill_after` log events (None: let it finish)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "tests.processor.runner", str(spec)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert child.stdout is not None
    seen, last = 0, ""
    for line in child.stdout:
        last = line.decode(errors="replace")
        seen += 1
        if kill_after is not None and seen >= kill_after:
            child.send_signal(signal.SIGKILL)
            break
    child.stdout.close()
    child.wait(timeout=120)
    return last


@pytest.mark.integration
def test_sigkill_at_random_points_then_a_clean_pass_loses_nothing_and_forwards_once(world, tmp_path):
    world.deliver(*_bills_for(world))
    spec = _spec(world, tmp_path)
    rng = random.Random(20261128)
    killed = 0
    for _ in range(20):
        last = _run_and_kill(spec, kill_after=rng.randint(5, 120))
        killed += "runner_done" not in last
    assert killed >= 15  # most runs really were killed mid-pass
    final = _run_and_kill(spec, kill_after=None)
    assert "runner_done" in final, final
    _assert_exactly_once(world, world.smtp.spooled())
    assert _count(world, MailMessage) == UNITS * len(CYCLES)


@pytest.mark.integration
def test_with_the_smtp_relay_down_forwards_wait_in_the_outbox_and_go_out_once_when_it_is_back(world):
    units = [world.add_unit(n) for n in range(1, 4)]
    world.deliver(*(bill_message(u.inbox_address, u.installation, "2026-10") for u in units))
    world.smtp.stop()
    report = world.poll()
    assert report.outcomes == {"parsed": 3} and report.forwarded == 0 and report.outbox.relay_unavailable
    with session_scope(world.engine) as session:
        assert {f.status for f in session.exec(select(Forward)).all()} == {"pending"}
    assert world.counts()["INBOX"] == 3  # not settled while the forwards wait

    world.smtp.start()
    assert world.poll().forwarded == 3
    assert world.poll().forwarded == 0
    assert len(world.smtp.messages) == 3 and world.counts() == {"INBOX": 0, "Processed": 3, "Quarantine": 0}


@pytest.mark.integration
def test_a_4xx_is_retried_and_a_5xx_is_parked_with_the_reason(world):
    kept, refused = world.add_unit(1), world.add_unit(2)
    world.smtp.refuse["cliente1@example.com"] = "451 4.3.0 try again later"
    world.smtp.refuse["cliente2@example.com"] = "550 5.1.1 no such user"
    world.deliver(bill_message(kept.inbox_address, kept.installation, "2026-10"),
                  bill_message(refused.inbox_address, refused.installation, "2026-10"))
    world.poll()
    with session_scope(world.engine) as session:
        rows = {f.recipient: f for f in session.exec(select(Forward)).all()}
    assert rows["cliente1@example.com"].status == "pending" and "451" in rows["cliente1@example.com"].smtp_response
    assert rows["cliente2@example.com"].status == "parked" and "550" in rows["cliente2@example.com"].smtp_response
    assert world.counts() == {"INBOX": 1, "Processed": 1, "Quarantine": 0}

    del world.smtp.refuse["cliente1@example.com"]
    assert world.poll().forwarded == 1
    assert world.counts() == {"INBOX": 0, "Processed": 2, "Quarantine": 0}
