"""Two `faturas run` workers that share nothing but PostgreSQL and an S3 bucket (moto's server on loopback).

Each worker has its own HOME and data folder. Through one billing cycle and one failed adhesion, every bill
PDF, every failure artifact and every unit report is then readable from either worker's context, and no
blob was written to either data folder.
"""

from __future__ import annotations

import collections

import pytest
from sqlmodel import func, select

from config.context import AppContext
from config.settings import load_settings
from config.wiring import blob_store
from storage import migrate
from storage.engine import make_engine, session_scope
from storage.integrators import create_integrator
from storage.mail_models import Forward, Invoice
from storage.models import AdhesionAttempt, Unit, UnitCreate
from storage.secrets import KeyRing, new_key
from storage.units import create_unit
from storage.web_models import Integrator
from tests.factories import unit_in
from tests.processor.conftest import INBOX_POLICY, USER
from tests.processor.mime import bill_message
from tests.servers.s3 import S3Server
from tests.service.test_service import _count, _cycles, _env, _start, _stop, _wait
from web.services.report_view import unit_report_view

pytestmark = [pytest.mark.integration, pytest.mark.browser]
UNITS, MONTHS = 12, 3


@pytest.fixture
def s3_server():
    server = S3Server.start()
    yield server
    server.stop()


def test_two_workers_with_separate_folders_share_bills_artifacts_and_reports(postgres, mail, simulator, tmp_path,
                                                                             s3_server):
    dovecot, smtp = mail
    database_url = postgres.create_database()
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    key = new_key()
    keys = KeyRing((key,))
    customer = simulator.add_customer(installations=("3100000001",))  # the unit asks for another one
    with session_scope(engine) as session:
        integrator = create_integrator(session=session, email="ana@solar.example.com", password_hash="x")
        for n in range(1, UNITS + 1):
            unit = create_unit(session=session, unit_in=unit_in(n), keys=keys, inbox=INBOX_POLICY,
                               integrator_id=integrator.id)
            unit.inbox_address = f"uc-30{n:08d}-sep@faturas.example.com"
            unit.adhesion_status = "verified"
            session.add(unit)
        create_unit(session=session, keys=keys, inbox=INBOX_POLICY, integrator_id=integrator.id,
                    unit_in=UnitCreate(installation="3199999999", client_name=customer.name,
                                       holder_document="52998224725", portal_login=customer.document,
                                       portal_password=customer.password))
        integrator_id = integrator.id
    messages = [bill_message(f"uc-30{n:08d}-sep@faturas.example.com", f"30{n:08d}", cycle)
                for cycle in _cycles(MONTHS) for n in range(1, UNITS + 1)]
    dovecot.deliver_many(USER, messages)

    bucket = s3_server.new_bucket()
    envs = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        envs.append({**_env(folder, database_url, key, dovecot, smtp, simulator.url),
                     **s3_server.environment(bucket)})
    workers = [_start(env, tmp_path / f"worker-{i}.log") for i, env in enumerate(envs)]
    sent = select(func.count()).select_from(Forward).where(Forward.status == "sent")
    failed = select(func.count()).select_from(Unit).where(Unit.adhesion_status == "installation_not_found")
    try:
        _wait(lambda: _count(engine, sent) == len(messages) and _count(engine, failed) == 1, 600,
              "every bill forwarded and the adhesion failed")
    finally:
        for worker in workers:
            if worker.poll() is None:
                _stop(worker)
    # Which worker stored or sent what depends on timing (one may take every shard first); the proof of
    # sharing is below: every blob is read back through each worker's own settings and data folder.
    logs = [(tmp_path / f"worker-{i}.log").read_text() for i in range(2)]
    assert any('"bill_stored"' in log for log in logs) and all('"service_started"' in log for log in logs)

    contexts = [AppContext(settings=load_settings(env)) for env in envs]
    try:
        with session_scope(engine) as session:
            invoices = list(session.exec(select(Invoice)))
            attempts = list(session.exec(select(AdhesionAttempt)))
            with_data = [u for u in session.exec(select(Unit)) if u.adhesion_status == "verified"]
        assert len(invoices) == len(messages)
        artifacts = [a for attempt in attempts for a in attempt.artifacts]
        assert {a["kind"] for a in artifacts} >= {"screenshot", "trace"}
        for app in contexts:
            blobs = blob_store(app)
            for invoice in invoices:
                assert blobs.get(invoice.pdf_sha256).startswith(b"%PDF-")
            for artifact in artifacts:
                assert blobs.get(artifact["blob"], keys=app.keys())
        assert not any((tmp_path / name / "data" / "blobs").exists() for name in ("a", "b"))
        # The report of every unit reads the same from either worker's settings.
        views = collections.defaultdict(list)
        for app in contexts:
            with session_scope(app.engine) as session:
                owner = session.get(Integrator, integrator_id)
                for unit in with_data:
                    view = unit_report_view(session=session, settings=app.settings, integrator=owner,
                                            unit_id=unit.id)
                    views[unit.id].append([(r.month, r.amount_due) for r in view.rows if r.invoice_id])
        assert all(len(rows[0]) == MONTHS and rows[0] == rows[1] for rows in views.values())
        per_invoice = collections.Counter(d["invoice"] for d in smtp.spooled())
        assert len(per_invoice) == len(messages) and set(per_invoice.values()) == {1}
    finally:
        for app in contexts:
            app.close()
        engine.dispose()
