"""Portal logins through the real pipeline (Dovecot, SMTP, both databases): one inbox, routed by the bill.

Units of one login share the login's inbox address; each bill arriving there is stored under the unit
whose installation (or UC code) it prints and forwarded to that unit's recipients. A bill of an installation
of the login not registered yet waits in the inbox (`unregistered_installation`) and is processed once,
when the unit is registered from the pre-filled form.
"""

from __future__ import annotations

import email
import email.policy

from sqlmodel import select

from storage.engine import session_scope
from storage.login_models import PortalLogin
from storage.logins import unit_input_from_message, waiting_messages
from storage.mail_models import Invoice, MailMessage
from storage.models import Unit, UnitCreate, UnitUpdate
from storage.units import update_unit
from tests.processor.mime import bill, bill_message

LOGIN = "52998224725"


def _login_unit(world, n: int, **fields):
    return world.add_unit(n, portal_login=LOGIN, portal_password="senha-portal-1", **fields)


def _invoices(world) -> list[Invoice]:
    with session_scope(world.engine) as session:
        return list(session.exec(select(Invoice).order_by(Invoice.id)))


def _messages(world) -> list[MailMessage]:
    with session_scope(world.engine) as session:
        return list(session.exec(select(MailMessage).order_by(MailMessage.id)))


def _forwarded_to(world) -> dict[str, str]:
    """Recipient → subject of every forward the SMTP server received."""
    out = {}
    for sent in world.smtp.messages:
        parsed = email.message_from_bytes(sent.content, policy=email.policy.default)
        out[str(parsed["To"])] = str(parsed["Subject"])
    return out


def test_three_units_of_one_login_share_its_inbox_and_each_bill_goes_to_its_own_unit(world):
    units = [_login_unit(world, n) for n in (1, 2, 3)]
    solo = world.add_unit(4)  # no portal login: its own inbox, as before
    assert len({u.inbox_address for u in units}) == 1 and solo.inbox_address != units[0].inbox_address
    with session_scope(world.engine) as session:
        logins = list(session.exec(select(PortalLogin)))
    assert [(row.login, row.inbox_address) for row in logins] == [(LOGIN, units[0].inbox_address)]
    assert {u.portal_login_id for u in units} == {logins[0].id}

    shared = units[0].inbox_address
    world.deliver(*(bill_message(shared, u.installation, "2025-10") for u in units),
                  bill_message(solo.inbox_address, solo.installation, "2025-10"))
    report = world.poll()
    assert report.outcomes == {"parsed": 4}, report
    assert world.counts() == {"INBOX": 0, "Processed": 4, "Quarantine": 0}
    stored = {(i.unit_id, i.installation) for i in _invoices(world)}
    assert stored == {(u.id, u.installation) for u in [*units, solo]}
    assert {m.unit_id: m.portal_login_id for m in _messages(world)} == {
        **{u.id: logins[0].id for u in units}, solo.id: None}
    forwarded = _forwarded_to(world)
    assert sorted(forwarded) == sorted(u.forward_to[0] for u in [*units, solo])


def test_a_bill_of_an_unregistered_installation_waits_and_is_processed_once_when_the_unit_is_added(world):
    first = _login_unit(world, 1)
    _login_unit(world, 2)
    newcomer = bill("3000000077", "2025-10").bill
    world.deliver(bill_message(first.inbox_address, "3000000077", "2025-10"))

    report = world.poll()
    assert report.outcomes == {"unregistered_installation": 1}, report
    assert world.counts() == {"INBOX": 1, "Processed": 0, "Quarantine": 0}  # kept where it arrived
    assert _invoices(world) == [] and world.smtp.messages == []
    [waiting] = _messages(world)
    assert waiting.stage == "unregistered_installation" and waiting.bill_installation == "3000000077"
    assert "3000000077" in waiting.user_message and "Cadastrar esta instalação" in waiting.user_message
    assert world.poll().outcomes == {}  # nothing guessed, nothing moved on later passes
    assert world.counts()["INBOX"] == 1

    with session_scope(world.engine) as session:
        assert [m.id for m in waiting_messages(session=session)] == [waiting.id]
        prefill = unit_input_from_message(session=session, message_id=waiting.id)
    assert prefill["installation"] == "3000000077" and prefill["portal_login"] == LOGIN
    assert prefill["client_name"] == newcomer.holder_name and prefill["holder_document"] == first.holder_document
    added = world.add_unit(UnitCreate(**{**prefill, "forward_to": ["novo@example.com"]}))
    assert added.inbox_address == first.inbox_address

    report = world.poll()
    assert report.outcomes == {"parsed": 1}, report
    [invoice] = _invoices(world)
    assert invoice.unit_id == added.id and invoice.installation == "3000000077"
    assert list(_forwarded_to(world)) == ["novo@example.com"]
    assert world.counts() == {"INBOX": 0, "Processed": 1, "Quarantine": 0}
    assert world.poll().outcomes == {} and len(world.smtp.messages) == 1  # once


def test_the_pdf_password_candidates_are_those_of_the_logins_units(world):
    _login_unit(world, 1)
    locked = _login_unit(world, 2, pdf_password="pdf-da-2")
    world.deliver(bill_message(locked.inbox_address, locked.installation, "2025-10", pdf_password="pdf-da-2"))
    assert world.poll().outcomes == {"parsed": 1}
    assert [i.unit_id for i in _invoices(world)] == [locked.id]


def test_2026_bills_at_a_login_inbox_go_by_uc_code_and_a_one_unit_login_still_learns_it(world):
    alone = world.add_unit(1, portal_login="11144477735", portal_password="senha-portal-1")
    world.deliver(bill_message(alone.inbox_address, alone.installation, "2026-10"))
    assert world.poll().outcomes == {"parsed": 1}
    with session_scope(world.engine) as session:
        assert session.get(Unit, alone.id).uc_code == bill(alone.installation, "2026-10").bill.uc_code

    known = _login_unit(world, 2, uc_code=bill("3000000002", "2026-10").bill.uc_code)
    by_installation = _login_unit(world, 3)  # installation only: a 2026 bill (UC code only) cannot match it
    world.deliver(bill_message(known.inbox_address, "3000000002", "2026-10"),
                  bill_message(known.inbox_address, "3000000003", "2026-10"))
    assert world.poll().outcomes == {"parsed": 1, "unregistered_installation": 1}
    waiting = [m for m in _messages(world) if m.stage == "unregistered_installation"]
    assert [m.bill_uc_code for m in waiting] == [bill("3000000003", "2026-10").bill.uc_code]
    assert {i.unit_id for i in _invoices(world)} == {alone.id, known.id}

    # The message says what to do: give unit 3 its UC code; the waiting bill is then processed once.
    with session_scope(world.engine) as session:
        unit = session.get(Unit, by_installation.id)
        update_unit(session=session, unit=unit, unit_in=UnitUpdate(uc_code=waiting[0].bill_uc_code), keys=world.keys)
    assert world.poll().outcomes == {"parsed": 1}
    assert {i.unit_id for i in _invoices(world)} == {alone.id, known.id, by_installation.id}
    assert world.poll().outcomes == {} and len(world.smtp.messages) == 3


def test_the_cli_lists_the_login_and_registers_the_waiting_installation(world, database_url, monkeypatch,
                                                                         tmp_path, capsys):
    from cli.main import build_app
    from cli.support import run_app

    monkeypatch.setenv("FATURAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FATURAS_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")

    def cli(*args: str) -> tuple[int, str]:
        code = run_app(build_app(), list(args))
        return code, capsys.readouterr().out

    first = _login_unit(world, 1)
    world.deliver(bill_message(first.inbox_address, "3000000088", "2025-10"))
    assert world.poll().outcomes == {"unregistered_installation": 1}
    [waiting] = _messages(world)

    code, out = cli("logins", "list")
    assert code == 0 and first.inbox_address in out and "1 login(s)" in out
    code, out = cli("logins", "show", str(first.portal_login_id), "--json")
    shown = __import__("json").loads(out)
    assert code == 0 and [u["id"] for u in shown["units"]] == [first.id]
    assert [w["installation"] for w in shown["waiting"]] == ["3000000088"]
    assert shown["has_password"] is True and "senha-portal-1" not in out and "password_enc" not in out
    code, out = cli("logins", "waiting")
    assert code == 0 and "3000000088" in out

    code, out = cli("logins", "register", str(waiting.id), "-f", "fazenda@example.com", "--yes")
    assert code == 0, out
    assert cli("logins", "register", str(waiting.id), "--yes")[0] == 5  # no longer waiting: not found
    assert world.poll().outcomes == {"parsed": 1}
    [invoice] = _invoices(world)
    with session_scope(world.engine) as session:
        unit = session.get(Unit, invoice.unit_id)
    assert unit.installation == "3000000088" and unit.portal_login_id == first.portal_login_id
    assert list(_forwarded_to(world)) == ["fazenda@example.com"]
