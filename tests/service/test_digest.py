"""The daily alert digest through a real SMTP server: once a day per integrator with alerts, never twice."""

from __future__ import annotations

import email
import email.policy
from datetime import date

from config.context import AppContext
from config.settings import load_settings
from service.digest import send_digests
from storage.engine import session_scope
from storage.models import Unit
from storage.secrets import new_key
from storage.units import create_unit
from tests.factories import unit_in
from web.services.accounts import add_user


def test_one_digest_a_day_to_the_integrator_with_alerts_only(tmp_path, database_url, mail):
    _, smtp = mail
    app = AppContext(settings=load_settings({
        "HOME": str(tmp_path), "FATURAS_DATA_DIR": str(tmp_path / "data"), "FATURAS_DATABASE_URL": database_url,
        "FATURAS_SECRET_KEYS": new_key(), "FATURAS_SMTP_HOST": smtp.host, "FATURAS_SMTP_PORT": str(smtp.port),
        "FATURAS_SMTP_TLS": "none", "FATURAS_REPORT_DIGEST": "true"}))
    with session_scope(app.engine) as session:
        ana = add_user(session=session, email="ana@solar.example.com", password="senha-forte-123").id
        bia = add_user(session=session, email="bia@solar.example.com", password="senha-forte-123").id
        late = create_unit(session=session, unit_in=unit_in(1, client_name="Maria Souza"), keys=None,
                           inbox=app.inbox_policy, integrator_id=ana)
        create_unit(session=session, unit_in=unit_in(2), keys=None, inbox=app.inbox_policy, integrator_id=bia)
        late.adhesion_status = "bill_overdue"
        session.add(late)
    before = len(smtp.messages)
    first = send_digests(app, today=date(2026, 12, 2))
    assert (first.sent, first.skipped, first.failed) == (1, 0, 0)
    (sent,) = smtp.messages[before:]
    assert sent.rcpt_tos == ("ana@solar.example.com",)
    message = email.message_from_bytes(sent.content, policy=email.policy.default)
    assert message["Subject"] == "Faturas: 1 alerta(s) em 02/12/2026"
    body = message.get_content()
    assert "Maria Souza, instalação 3000000001: Fatura não chegou." in body and "Quem deve agir: o operador" in body
    again = send_digests(app, today=date(2026, 12, 2))
    assert (again.sent, again.skipped) == (0, 1) and len(smtp.messages) == before + 1
    next_day = send_digests(app, today=date(2026, 12, 3))
    assert next_day.sent == 1 and len(smtp.messages) == before + 2
    with session_scope(app.engine) as session:
        unit = session.get(Unit, late.id)
        unit.adhesion_status = "verified"
        session.add(unit)
    assert send_digests(app, today=date(2026, 12, 4)).sent == 0  # no alert, no e-mail
    app.close()
