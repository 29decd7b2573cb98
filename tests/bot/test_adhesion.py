"""The onboarding bot against the simulator, one test per scenario of the issue (real Chromium)."""

from __future__ import annotations

import io
import json
import random
import zipfile

import pytest

from bot.adhesion import AdhesionOptions, adhere_units
from config.logs import configure_logging
from storage.adhesion import attempts_of, units_to_adhere
from storage.blobs import BlobStore
from storage.engine import session_scope
from storage.models import AdhesionStatus
from storage.units import get_unit
from tests.aio import run_async
from tests.bot.conftest import add_unit
from tests.factories import make_cpf

pytestmark = pytest.mark.browser


def run(app, ids, **options):
    return run_async(adhere_units(app, ids, AdhesionOptions(**{"backoff_s": 0.2, **options})))


def unit_state(app, unit_id):
    with session_scope(app.engine) as session:
        unit = get_unit(session=session, ref=unit_id)
        return unit.adhesion_status, unit.inbox_address, [
            (a.outcome, a.step_reached, a.submissions, list(a.changes), list(a.artifacts))
            for a in attempts_of(session=session, unit_id=unit_id)]


def sim_installation(simulator, number="3000055479"):
    report = simulator.admin.report()
    for customer in report["customers"]:
        for inst in customer["installations"]:
            if inst["installation"] == number:
                return customer, inst
    raise AssertionError(f"{number} not in the simulator")


def test_fresh_unit_is_enrolled_with_our_address(bot_app, simulator):
    customer = simulator.add_customer()
    unit_id = add_unit(bot_app, customer)
    (outcome,) = run(bot_app, [unit_id])
    status, inbox, attempts = unit_state(bot_app, unit_id)
    assert outcome.status == AdhesionStatus.ENROLLED and status == "enrolled"
    assert outcome.changes == ("email_set", "enrolled") and outcome.submissions == 1
    sim_customer, inst = sim_installation(simulator)
    assert sim_customer["email"] == inbox and inst["enrolled"] and inst["adhesion_submissions"] == 1
    assert attempts[0][0] == "enrolled" and attempts[0][1] == "verify_enrolled" and attempts[0][4] == []


def test_already_enrolled_with_our_address_submits_nothing(bot_app, simulator):
    from types import SimpleNamespace

    login = SimpleNamespace(name="Maria", document="12345678909", email=None, password="Senha@123",
                            installations=["3000055479"])
    unit_id = add_unit(bot_app, login)
    _, inbox, _ = unit_state(bot_app, unit_id)
    customer = simulator.add_customer(email=inbox, installations=())
    simulator.admin.add_installation(customer.id, "3000055479", enrolled=True)
    (outcome,) = run(bot_app, [unit_id])
    assert outcome.status == AdhesionStatus.ENROLLED and outcome.changes == () and outcome.submissions == 0
    _, inst = sim_installation(simulator)
    assert inst["adhesion_submissions"] == 0 and inst["enrolled"]


def test_enrolled_with_another_address_is_fixed(bot_app, simulator):
    customer = simulator.add_customer(installations=())
    simulator.admin.add_installation(customer.id, "3000055479", enrolled=True)
    unit_id = add_unit(bot_app, customer, installation="3000055479")
    (outcome,) = run(bot_app, [unit_id])
    _, inbox, _ = unit_state(bot_app, unit_id)
    sim_customer, inst = sim_installation(simulator)
    assert outcome.status == AdhesionStatus.ENROLLED and "email_set" in outcome.changes
    assert sim_customer["email"] == inbox and inst["enrolled"] and inst["adhesion_submissions"] == 0


def test_wrong_password_is_invalid_credentials_and_not_retried(bot_app, simulator):
    customer = simulator.add_customer()
    unit_id = add_unit(bot_app, customer, portal_password="senha-errada")
    (outcome,) = run(bot_app, [unit_id], attempts=3)
    status, _, attempts = unit_state(bot_app, unit_id)
    assert status == "invalid_credentials" and outcome.attempts == 1 and len(attempts) == 1
    assert "Usuário ou senha inválidos" in outcome.message
    assert simulator.admin.customer(customer.id)["failed_logins"] == 1
    with session_scope(bot_app.engine) as session:
        assert unit_id not in [u.id for u in units_to_adhere(session=session)]


def test_challenge_without_a_strategy_is_captcha_required(bot_app, simulator):
    simulator.admin.set_scenario({"captcha": "checkbox"})
    customer = simulator.add_customer()
    unit_id = add_unit(bot_app, customer)
    (outcome,) = run(bot_app, [unit_id])
    assert outcome.status == AdhesionStatus.CAPTCHA_REQUIRED
    assert "--headed" in outcome.message and "captcha" in outcome.message
    assert sim_installation(simulator)[1]["enrolled"] is False


def test_challenge_with_the_solver_configured_is_enrolled(bot_app, simulator, monkeypatch):
    from config.context import AppContext

    simulator.admin.set_scenario({"captcha": "checkbox"})
    customer = simulator.add_customer()
    settings = bot_app.settings.model_copy(update={"captcha_solver_url": f"{simulator.url}/solver",
                                                   "captcha_solver_key": simulator.solver_key})
    app = AppContext(settings=settings)
    unit_id = add_unit(app, customer)
    (outcome,) = run(app, [unit_id])
    app.close()
    assert outcome.status == AdhesionStatus.ENROLLED
    assert sim_installation(simulator)[1]["enrolled"] is True


def test_saved_session_skips_the_challenge_next_time(bot_app, simulator):
    customer = simulator.add_customer(installations=("3000055479", "3000055480"))
    first = add_unit(bot_app, customer, installation="3000055479")
    second = add_unit(bot_app, customer, installation="3000055480")
    assert run(bot_app, [first])[0].status == AdhesionStatus.ENROLLED
    simulator.admin.set_scenario({"captcha": "always-fail"})
    (outcome,) = run(bot_app, [second])
    assert outcome.status == AdhesionStatus.ENROLLED  # no login at all: the saved session was reused
    assert sim_installation(simulator, "3000055480")[1]["enrolled"] is True


def logins_of(simulator, customer_id):
    return sum(1 for e in simulator.admin.report()["events"]
               if e["kind"] == "logged_in" and e["customer_id"] == customer_id)


def test_units_of_one_login_share_its_session_and_other_logins_do_not(bot_app, simulator):
    shared = simulator.add_customer(installations=("3000055479", "3000055480"))
    other = simulator.add_customer(name="Jose Lima", document="529.982.247-25", email="jose@example.com",
                                   installations=("3000055481",))
    first = add_unit(bot_app, shared, installation="3000055479")
    alone = add_unit(bot_app, other)
    second = add_unit(bot_app, shared, installation="3000055480")
    outcomes = run(bot_app, [first, alone, second], concurrency=2)
    assert [o.unit_id for o in outcomes] == [first, alone, second]
    assert all(o.status == AdhesionStatus.ENROLLED and o.submissions == 1 for o in outcomes)
    assert logins_of(simulator, shared.id) == 1  # the second unit ran in the first one's session
    assert logins_of(simulator, other.id) == 1
    assert all(sim_installation(simulator, n)[1]["enrolled"] for n in ("3000055479", "3000055480", "3000055481"))


def test_a_failed_unit_leaves_the_next_unit_of_its_login_a_fresh_context(bot_app, simulator):
    customer = simulator.add_customer(installations=("3000055479",))
    missing = add_unit(bot_app, customer, installation="3999999999")
    good = add_unit(bot_app, customer, installation="3000055479")
    failed, enrolled = run(bot_app, [missing, good])
    assert failed.status == AdhesionStatus.INSTALLATION_NOT_FOUND
    assert enrolled.status == AdhesionStatus.ENROLLED
    assert logins_of(simulator, customer.id) == 2  # no saved session after the failure: a clean login


def test_503_on_save_once_is_retried_and_enrolled(bot_app, simulator):
    customer = simulator.add_customer(scenario={"faults": [{"step": "access_data_save", "status": 503, "times": 1}]})
    unit_id = add_unit(bot_app, customer)
    (outcome,) = run(bot_app, [unit_id])
    assert outcome.status == AdhesionStatus.ENROLLED and outcome.attempts == 1
    assert sim_installation(simulator)[1]["adhesion_submissions"] == 1


def test_503_after_the_adhesion_was_recorded_does_not_submit_twice(bot_app, simulator):
    customer = simulator.add_customer(scenario={"faults": [
        {"step": "adhesion_confirm", "status": 503, "times": 1, "when": "after"}]})
    unit_id = add_unit(bot_app, customer)
    (outcome,) = run(bot_app, [unit_id])
    assert outcome.status == AdhesionStatus.ENROLLED
    assert sim_installation(simulator)[1]["adhesion_submissions"] == 1


def test_session_expired_mid_flow_is_resumed(bot_app, simulator):
    customer = simulator.add_customer(scenario={"session_expiry": {"step": "conta_digital"}})
    unit_id = add_unit(bot_app, customer)
    (outcome,) = run(bot_app, [unit_id])
    assert outcome.status == AdhesionStatus.ENROLLED
    logins = [e for e in simulator.admin.report()["events"] if e["kind"] == "logged_in"]
    assert len(logins) == 2
    assert sim_installation(simulator)[1]["adhesion_submissions"] == 1


def test_post_login_modal_is_closed(bot_app, simulator):
    customer = simulator.add_customer(scenario={"post_login_modal": True})
    unit_id = add_unit(bot_app, customer)
    (outcome,) = run(bot_app, [unit_id])
    assert outcome.status == AdhesionStatus.ENROLLED
    assert "post_login_dialog" in unit_state(bot_app, unit_id)[2][0][1] or outcome.submissions == 1


def test_legacy_markup_variant_is_enrolled(bot_app, simulator):
    simulator.admin.set_scenario({"variant": "legacy"})
    customer = simulator.add_customer(scenario={"variant": "legacy"})
    unit_id = add_unit(bot_app, customer)
    (outcome,) = run(bot_app, [unit_id])
    assert outcome.status == AdhesionStatus.ENROLLED
    assert sim_installation(simulator)[1]["enrolled"] is True


def test_uc_code_selects_the_installation(bot_app, simulator):
    customer = simulator.add_customer(installations=("3000055479", "3000099999"))
    uc = sim_installation(simulator, "3000099999")[1]["uc_code"]
    unit_id = add_unit(bot_app, customer, installation="", uc_code=uc)
    (outcome,) = run(bot_app, [unit_id])
    assert outcome.status == AdhesionStatus.ENROLLED
    assert sim_installation(simulator, "3000099999")[1]["enrolled"] is True
    assert sim_installation(simulator, "3000055479")[1]["enrolled"] is False


def test_installation_not_on_the_login_keeps_evidence_without_the_password(bot_app, simulator):
    stream = io.StringIO()
    configure_logging(fmt="json", level="debug", stream=stream, redactor=bot_app.redactor)
    customer = simulator.add_customer(password="Senha-Muito-Secreta-77")
    unit_id = add_unit(bot_app, customer, installation="3999999999")
    (outcome,) = run(bot_app, [unit_id], attempts=2)
    status, _, attempts = unit_state(bot_app, unit_id)
    assert status == "installation_not_found" and outcome.attempts == 1
    artifacts = attempts[0][4]
    kinds = sorted(a["kind"] for a in artifacts)
    assert kinds.count("screenshot") == 1 and kinds.count("trace") >= 2
    blobs = BlobStore(bot_app.settings.data_dir / "blobs")
    secret = customer.password.encode()
    trace_text = b""
    for artifact in artifacts:
        data = blobs.get(artifact["blob"], keys=bot_app.keys())
        assert secret not in data
        if artifact["kind"] == "trace":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    content = archive.read(name)
                    assert secret not in content, name
                    trace_text += content
    assert "Minhas instalações".encode() in trace_text  # the kept trace really covers the failing step
    for path in (bot_app.settings.data_dir / "blobs").rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes()
    logs = stream.getvalue()
    assert "adhesion_attempt_failed" in logs and customer.password not in logs
    events = [json.loads(line) for line in logs.splitlines()]
    assert any(e.get("unit_id") == unit_id and e.get("attempt_id") for e in events)



def test_all_pending_enrols_many_units_at_concurrency_4(bot_app, simulator):
    ids = []
    rng = random.Random(8)
    for n in range(8):
        # Half log in with a CPF, half with an e-mail (which the portal changes along with the access e-mail).
        customer = simulator.add_customer(name=f"Cliente {n}", document=make_cpf(rng),
                                          email=f"cliente{n}@example.com", installations=(f"30001000{n:02d}",))
        login = customer.document if n % 2 else customer.email
        ids.append(add_unit(bot_app, customer, portal_login=login))
    with session_scope(bot_app.engine) as session:
        pending = [u.id for u in units_to_adhere(session=session)]
    assert pending == ids
    outcomes = run(bot_app, pending, concurrency=4)
    assert all(o.status == AdhesionStatus.ENROLLED for o in outcomes)
    report = simulator.admin.report()
    assert sum(i["enrolled"] for c in report["customers"] for i in c["installations"]) == 8
    assert sum(i["adhesion_submissions"] for c in report["customers"] for i in c["installations"]) == 8
    # A second run finds everything in place (e-mail logins now use the inbox address) and submits nothing.
    again = run(bot_app, ids, concurrency=4)
    assert all(o.status == AdhesionStatus.ENROLLED and o.submissions == 0 and o.changes == () for o in again)
    report = simulator.admin.report()
    assert sum(i["adhesion_submissions"] for c in report["customers"] for i in c["installations"]) == 8


def _email_changes(simulator, customer_id):
    return [e for e in simulator.admin.report()["events"]
            if e["kind"] == "email_changed" and e["customer_id"] == customer_id]


def test_a_login_with_three_installations_sets_its_email_once_and_adding_a_fourth_only_enrols_it(bot_app,
                                                                                                 simulator):
    from storage.login_models import PortalLogin

    numbers = ("3000055479", "3000055480", "3000055481")
    customer = simulator.add_customer(installations=numbers)
    ids = [add_unit(bot_app, customer, installation=n) for n in numbers]
    inboxes = {unit_state(bot_app, unit_id)[1] for unit_id in ids}
    assert len(inboxes) == 1  # one access e-mail per login: every unit of it has the login's address

    outcomes = run(bot_app, ids)
    assert [o.status for o in outcomes] == [AdhesionStatus.ENROLLED] * 3
    assert [o.submissions for o in outcomes] == [1, 1, 1]  # one submission per installation
    assert [e["new"] for e in _email_changes(simulator, customer.id)] == list(inboxes)  # one change, no flip-flop
    assert logins_of(simulator, customer.id) == 1  # one after another in one context
    with session_scope(bot_app.engine) as session:
        [login] = session.exec(__import__("sqlmodel").select(PortalLogin)).all()
        assert login.email_status == "email_set" and login.inbox_address in inboxes

    rerun = run(bot_app, ids)  # changes nothing at the portal
    assert [o.submissions for o in rerun] == [0, 0, 0] and len(_email_changes(simulator, customer.id)) == 1

    simulator.admin.add_installation(customer.id, "3000055482")
    fourth = add_unit(bot_app, customer, installation="3000055482")
    assert unit_state(bot_app, fourth)[1] in inboxes
    (added,) = run(bot_app, [fourth])
    assert added.status == AdhesionStatus.ENROLLED and added.submissions == 1
    assert len(_email_changes(simulator, customer.id)) == 1  # the e-mail was not touched
    assert all(sim_installation(simulator, n)[1]["adhesion_submissions"] == 1 for n in (*numbers, "3000055482"))
