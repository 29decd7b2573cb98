"""A holder's data exported and erased (LGPD): what goes, what stays, and nothing readable left in SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from cli.main import build_app
from cli.support import EXIT_INPUT, EXIT_NOT_FOUND, run_app
from storage.adhesion import credential_scope, save_browser_state
from storage.audit_models import ErasureAudit
from storage.blobs import BlobStore
from storage.engine import session_scope
from storage.errors import UnitNotFound
from storage.holders import erase_holder, export_holder
from storage.mail_models import Forward, Invoice, MailMessage
from storage.models import AdhesionAttempt, BrowserSession, Unit, UnitCreate
from storage.secrets import KeyRing, new_key
from storage.units import InboxPolicy, create_unit

INBOX = InboxPolicy(pattern="uc-{installation}-{token}", domain="faturas.example.com")
MARIA, JOAO = "529.982.247-25", "111.444.777-35"
SECRET = "Senha-Do-Portal-77"


def _holder(session, keys, blobs, *, document: str, name: str, installation: str, pdf: bytes) -> Unit:
    unit = create_unit(session=session, keys=keys, inbox=INBOX, unit_in=UnitCreate(
        installation=installation, client_name=name, holder_document=document, portal_login=f"{name}@example.com",
        portal_password=SECRET, forward_to=[f"{name}@cliente.example.com"]))
    message = MailMessage(account="main", folder="INBOX", uidvalidity=1, uid=int(installation[-4:]),
                          message_id=f"<{installation}@cemig>", sender="fatura@cemig.com.br",
                          subject=f"Fatura de {name}", recipient=unit.inbox_address, unit_id=unit.id,
                          stage="parsed")
    session.add(message)
    session.flush()
    invoice = Invoice(unit_id=unit.id, reference_month="2026-11", status="parsed", fingerprint="f" * 64,
                      data={"client_name": name, "address": "Rua das Flores 10"}, pdf_sha256=blobs.put(pdf),
                      source="mail", installation=installation, mail_message_id=message.id)
    session.add(invoice)
    session.flush()
    session.add(Forward(invoice_id=invoice.id, recipient=f"{name}@cliente.example.com",
                        message_id=f"<f{invoice.id}@x>"))
    shot = blobs.put(f"screenshot of {name}".encode(), keys=keys)
    session.add(AdhesionAttempt(unit_id=unit.id, outcome="portal_changed",
                                artifacts=[{"kind": "screenshot", "name": "failure.png", "blob": shot}]))
    scope = credential_scope(keys=keys, utility="cemig", integrator_id=None, portal_login=unit.portal_login,
                             password=SECRET)
    save_browser_state(session=session, scope=scope, state={"cookies": [{"name": "sid", "value": name}]}, keys=keys)
    return unit


@pytest.fixture
def stored(engine, tmp_path):
    keys, blobs = KeyRing((new_key(),)), BlobStore(tmp_path / "blobs")
    with session_scope(engine) as session:
        maria = _holder(session, keys, blobs, document=MARIA, name="mariadasilva", installation="3000000001",
                        pdf=b"%PDF- the bill of maria")
        joao = _holder(session, keys, blobs, document=JOAO, name="joaopereira", installation="3000000002",
                       pdf=b"%PDF- the bill of joao")
        # The same PDF under another holder (a bill uploaded twice): it must survive Maria's erasure.
        session.add(Invoice(unit_id=joao.id, reference_month="2026-10", status="parsed", fingerprint="e" * 64,
                            data={}, pdf_sha256=blobs.put(b"%PDF- the bill of maria"), source="upload"))
    return keys, blobs, maria.id, joao.id


def test_export_lists_everything_about_the_holder_and_no_secret(engine, stored):
    _, blobs, maria_id, _ = stored
    with session_scope(engine) as session:
        exported = export_holder(session=session, blobs=blobs, document="52998224725")
    record = exported.record
    assert [u["id"] for u in record["units"]] == [maria_id] and record["units"][0]["has_portal_password"]
    assert [i["reference_month"] for i in record["invoices"]] == ["2026-11"]
    assert exported.files[record["invoices"][0]["file"]] == b"%PDF- the bill of maria"
    assert len(record["forwards"]) == 1 and len(record["mail_messages"]) == 1 and len(record["adhesion_attempts"]) == 1
    text = json.dumps(record)
    assert SECRET not in text and "portal_password_enc" not in text and "joaopereira" not in text
    with pytest.raises(UnitNotFound), session_scope(engine) as session:
        export_holder(session=session, blobs=blobs, document="12345678909")


def test_erase_removes_the_holder_keeps_the_ledger_anonymous_and_an_audit_line(engine, stored, tmp_path):
    keys, blobs, maria_id, joao_id = stored
    report = erase_holder(engine=engine, blobs=blobs, document=MARIA, actor="cli:test")
    assert (report.units, report.invoices, report.sessions, report.ledger_rows) == (1, 1, 1, 1)
    assert report.blobs == 1  # her screenshot; her PDF is still João's too
    with session_scope(engine) as session:
        assert [u.id for u in session.exec(select(Unit))] == [joao_id]
        assert {i.unit_id for i in session.exec(select(Invoice))} == {joao_id}
        assert len(session.exec(select(Forward)).all()) == 1 and len(session.exec(select(AdhesionAttempt)).all()) == 1
        assert [s.portal_login for s in session.exec(select(BrowserSession))] == ["joaopereira@example.com"]
        ledger = {m.message_id: m for m in session.exec(select(MailMessage))}
        hers = ledger["<3000000001@cemig>"]
        assert (hers.unit_id, hers.subject, hers.sender, hers.recipient) == (None, None, None, None)
        assert ledger["<3000000002@cemig>"].subject == "Fatura de joaopereira"
        (audit,) = session.exec(select(ErasureAudit)).all()
        assert (audit.actor, audit.document_masked, audit.units) == ("cli:test", "529*****725", 1)
    assert blobs.get(blobs.put(b"%PDF- the bill of maria")) == b"%PDF- the bill of maria"
    assert sum(1 for _, encrypted in blobs.names() if encrypted) == 1  # João's screenshot only
    if engine.dialect.name == "sqlite":
        database = Path(engine.url.database)
        files = [database, Path(f"{database}-wal")]
        leftovers = b"".join(f.read_bytes() for f in files if f.exists())
        for personal in (b"mariadasilva", b"Fatura de mariadasilva", b"52998224725"):
            assert personal not in leftovers, personal
        assert b"joaopereira" in leftovers  # the scan reads the file for real


def test_the_commands_ask_for_yes_and_say_what_they_did(engine, stored, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FATURAS_DATA_DIR", str(tmp_path))  # the fixture's blobs are in tmp_path/blobs
    monkeypatch.setenv("FATURAS_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("FATURAS_SECRET_KEYS", new_key())
    monkeypatch.setenv("COLUMNS", "250")
    out = tmp_path / "export"
    assert run_app(build_app(), ["clients", "export", MARIA, "--out", str(out)]) == 0
    assert json.loads((out / "data.json").read_text())["units"][0]["client_name"] == "mariadasilva"
    assert [p.name for p in (out / "faturas").iterdir()] == [p.name for p in (out / "faturas").glob("*-2026-11.pdf")]
    assert run_app(build_app(), ["clients", "erase", MARIA]) == EXIT_INPUT
    assert "--yes" in capsys.readouterr().err
    assert run_app(build_app(), ["clients", "erase", MARIA, "--yes"]) == 0
    assert "erased 1 unit(s), 1 bill(s)" in capsys.readouterr().out
    assert run_app(build_app(), ["clients", "erase", MARIA, "--yes"]) == EXIT_NOT_FOUND
