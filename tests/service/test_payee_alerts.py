"""A bill paying someone else raises an alert everywhere an integrator looks: webhook event and daily digest.

The forged bill is uploaded (`faturas invoices import` path, asked to forward): the payee check applies to
uploads too, so it is stored for review and not forwarded.
"""

from __future__ import annotations

import email
import email.policy
import json
from datetime import date

import httpx
from sqlmodel import select

from config.context import AppContext
from config.settings import load_settings
from config.wiring import build_pipeline
from processor.uploads import import_files
from service.digest import send_digests
from service.webhooks import register_endpoint, run_webhooks
from storage.engine import session_scope
from storage.mail_models import Forward
from storage.models import utcnow
from storage.secrets import new_key
from storage.units import create_unit
from tests.factories import unit_in
from tests.processor.test_payee import FRAUD_KEY, _forged
from tests.service.test_webhooks import Receiver
from web.services.accounts import add_user


def test_an_uploaded_fake_bill_is_not_forwarded_and_sends_a_payee_mismatch_webhook(web, tmp_path):
    receiver = Receiver()
    try:
        ana = web.user("ana@solar.example.com")
        unit_id = web.unit(ana, 1)
        keys = web.app.keys()
        with session_scope(web.app.engine) as session:
            register_endpoint(session=session, keys=keys, integrator_id=ana, url=receiver.url)
        path = tmp_path / "fatura.pdf"
        path.write_bytes(_forged("3000000001", "2026-11", pix_key=FRAUD_KEY).pdf)
        (stored,) = import_files(build_pipeline(web.app), unit_ref=str(unit_id), paths=[path], forward=True)
        assert stored.status == "needs_review"
        with session_scope(web.app.engine) as session:
            assert session.exec(select(Forward)).all() == []
        with httpx.Client(timeout=10) as client:
            report = run_webhooks(engine=web.app.engine, keys=keys, max_attempts=3, backoff_s=60, client=client,
                                  now=utcnow)
        assert report.delivered == 2
        events = {h["x-faturas-event"]: json.loads(b) for h, b in receiver.received}
        assert set(events) == {"invoice.received", "invoice.payee_mismatch"}
        mismatch = events["invoice.payee_mismatch"]
        assert mismatch["idempotency_key"] == f"invoice.payee_mismatch:{stored.invoice_id}"
        assert mismatch["data"]["status"] == "needs_review" and mismatch["data"]["reference_month"] == "2026-11"
    finally:
        receiver.close()


def test_the_daily_digest_names_the_fake_bill(tmp_path, database_url, mail):
    _, smtp = mail
    app = AppContext(settings=load_settings({
        "HOME": str(tmp_path), "FATURAS_DATA_DIR": str(tmp_path / "data"), "FATURAS_DATABASE_URL": database_url,
        "FATURAS_SECRET_KEYS": new_key(), "FATURAS_SMTP_HOST": smtp.host, "FATURAS_SMTP_PORT": str(smtp.port),
        "FATURAS_SMTP_TLS": "none", "FATURAS_REPORT_DIGEST": "true"}))
    try:
        with session_scope(app.engine) as session:
            ana = add_user(session=session, email="ana@solar.example.com", password="senha-forte-123").id
            unit = create_unit(session=session, unit_in=unit_in(1, client_name="Maria Souza"), keys=None,
                               inbox=app.inbox_policy, integrator_id=ana)
            unit_id = unit.id
        path = tmp_path / "fatura.pdf"
        path.write_bytes(_forged("3000000001", "2026-11", company="0999").pdf)
        import_files(build_pipeline(app), unit_ref=str(unit_id), paths=[path])
        before = len(smtp.messages)
        today = date.today()
        assert send_digests(app, today=today).sent == 1
        (sent,) = smtp.messages[before:]
        body = email.message_from_bytes(sent.content, policy=email.policy.default).get_content()
        assert "Maria Souza, instalação 3000000001: Fatura com pagamento para terceiros (nov/26)." in body
        assert "NÃO foi encaminhada" in body
    finally:
        app.close()
