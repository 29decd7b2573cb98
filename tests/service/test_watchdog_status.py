"""The missing-bill watchdog and `faturas status`, on both databases."""

from __future__ import annotations

import json
from datetime import date

from cli.main import build_app
from cli.support import run_app
from service.status import collect_status
from service.watchdog import check_overdue
from storage.engine import session_scope
from storage.mail_models import Invoice
from storage.models import AdhesionStatus, Unit
from storage.units import InboxPolicy, create_unit
from storage.work import register_worker
from tests.factories import unit_in

POLICY = InboxPolicy(pattern="uc-{installation}-{token}", domain="faturas.example.com")


def _unit_with_bill(engine, n: int, next_reading: str, status: str = "verified") -> int:
    with session_scope(engine) as session:
        unit = create_unit(session=session, unit_in=unit_in(n), keys=None, inbox=POLICY)
        unit.adhesion_status = status
        session.add(unit)
        session.flush()
        session.add(Invoice(unit_id=unit.id, reference_month="2026-09", status="parsed", fingerprint="f" * 64,
                            pdf_sha256="a" * 64, source="email", data={"reading": {"next": next_reading}}))
        return unit.id


def test_watchdog_flags_only_verified_units_whose_next_bill_is_late(engine):
    late = _unit_with_bill(engine, 1, "2026-10-20")
    on_time = _unit_with_bill(engine, 2, "2026-11-25")
    enrolled = _unit_with_bill(engine, 3, "2026-10-20", status="enrolled")
    with session_scope(engine) as session:
        flagged = check_overdue(session=session, today=date(2026, 11, 28), overdue_days=5)
    assert flagged == [late]
    with session_scope(engine) as session:
        unit = session.get(Unit, late)
        assert unit.adhesion_status == AdhesionStatus.BILL_OVERDUE.value
        assert "2026-10-20" in unit.adhesion_message and "Conta Digital" in unit.adhesion_message
        assert session.get(Unit, on_time).adhesion_status == "verified"
        assert session.get(Unit, enrolled).adhesion_status == "enrolled"
        # Within the grace period nothing is flagged.
        assert check_overdue(session=session, today=date(2026, 10, 24), overdue_days=5) == []


def test_status_counts_states_actors_and_live_workers(engine, database_url, monkeypatch, capsys, tmp_path):
    _unit_with_bill(engine, 1, "2026-10-20")
    _unit_with_bill(engine, 2, "2026-10-20", status="captcha_required")
    with session_scope(engine) as session:
        register_worker(session=session, owner="w1", host="h", pid=7, stale_after_s=45, single_writer=False)
    with session_scope(engine) as session:
        data = collect_status(session=session, stale_after_s=45)
    assert data["units"]["by_state"] == {"verified": 1, "captcha_required": 1}
    assert data["units"]["by_next_actor"] == {"nobody": 1, "operator": 1}
    assert [w["pid"] for w in data["workers"]] == [7]
    monkeypatch.setenv("FATURAS_DATABASE_URL", database_url)
    monkeypatch.setenv("FATURAS_DATA_DIR", str(tmp_path))
    capsys.readouterr()  # drop what the setup printed
    assert run_app(build_app(), ["status", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["units"]["total"] == 2 and printed["outbox"] == {}
