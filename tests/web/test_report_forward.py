"""The monthly report attached to forwarded bills when the integrator turns it on (report page switch)."""

from __future__ import annotations

import email
import email.policy

from config.wiring import blob_store, build_pipeline
from processor.config import SmtpRelay
from processor.outbox import send_outbox
from processor.parse.text import pdf_text
from processor.uploads import import_files
from storage.engine import session_scope
from storage.models import Unit
from tests.processor.conftest import smtp_server  # noqa: F401 - the relay
from tests.processor.mime import bill
from tests.web.conftest import csrf_of


def _forward(web, unit_id: int, month: str, tmp_path, smtp) -> email.message.EmailMessage:  # noqa: ANN001
    path = tmp_path / f"{month}.pdf"
    path.write_bytes(bill("3000000001", month).pdf)
    (result,) = import_files(build_pipeline(web.app), unit_ref=str(unit_id), paths=[path], forward=True)
    assert result.status == "parsed", result
    smtp.clear()
    settings = web.app.settings.mail.model_copy(update={"smtp": SmtpRelay(host=smtp.host, port=smtp.port, timeout=10),
                                                        "forward_backoff_seconds": 0})
    send_outbox(engine=web.app.engine, settings=settings, blobs=blob_store(web.app), owner="test")
    (sent,) = smtp.messages
    return email.message_from_bytes(sent.content, policy=email.policy.default)


def _switch(client, unit_id: int, on: bool) -> None:  # noqa: ANN001
    page = client.get(f"/unidades/{unit_id}/relatorio")
    assert "Anexar este relatório (PDF) a cada fatura encaminhada ao cliente" in page.text
    data = {"csrf_token": csrf_of(page), **({"ativar": "1"} if on else {})}
    assert client.post(f"/unidades/{unit_id}/relatorio-no-encaminhamento", data=data).status_code == 303


def test_the_forward_carries_the_report_up_to_its_month_only_when_turned_on(web, smtp_server, tmp_path):  # noqa: F811
    ana = web.user("ana@solar.example.com")
    unit_id = web.unit(ana, 1)
    client = web.login("ana@solar.example.com")
    assert client.post(f"/unidades/{unit_id}/relatorio-no-encaminhamento",
                       data={"ativar": "1"}).status_code == 403  # CSRF as every form
    _switch(client, unit_id, on=True)
    with session_scope(web.app.engine) as session:
        assert session.get(Unit, unit_id).forward_report is True

    _forward(web, unit_id, "2025-09", tmp_path, smtp_server)
    october = _forward(web, unit_id, "2025-10", tmp_path, smtp_server)
    names = [part.get_filename() for part in october.iter_attachments()]
    assert names[1:] == ["relatorio-2025-10.pdf"] and names[0].endswith(".pdf")
    body = october.get_body(("plain",)).get_content()
    assert "O relatório detalhado da unidade até 10/2025 segue anexo em PDF (relatorio-2025-10.pdf)." in body
    report = pdf_text(list(october.iter_attachments())[1].get_content())
    assert "Relatório detalhado" in report and "set/25" in report and "out/25" in report
    assert bill("3000000001", "2025-10").bill.amount_due.replace(".", ",") in report
    assert "nov/25" not in report  # nothing after the forwarded bill's month
    assert "Alertas" not in report  # the integrator's to-do list is not the client's

    _switch(client, unit_id, on=False)
    november = _forward(web, unit_id, "2025-11", tmp_path, smtp_server)
    assert len(list(november.iter_attachments())) == 1
    assert "relatório detalhado" not in november.get_body(("plain",)).get_content()
