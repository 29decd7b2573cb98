"""The portal's store, sessions and scenario merging, without a server."""

import threading

import pytest

from simulator.bills.profile import InstallationProfile
from simulator.portal import scenarios
from simulator.portal.sessions import Sessions
from simulator.portal.store import Store, StoreError


@pytest.fixture
def store():
    s = Store(":memory:")
    yield s
    s.close()


def test_enrolled_profiles_follow_the_current_access_email(store):
    maria = store.add_customer(name="Maria", password="x", document="123.456.789-09", email="maria@example.com")
    store.add_installation(customer_id=maria.id, number="3000055479", pdf_password="12345", supply_type="trifasico")
    store.add_installation(customer_id=maria.id, number="3000099999")
    assert store.enrolled_profiles() == []
    assert store.submit_adhesion("3000055479") is True
    store.change_email(maria.id, "uc-3000055479@faturas.example.com")
    (profile,) = store.enrolled_profiles()
    assert isinstance(profile, InstallationProfile)
    assert profile.email == "uc-3000055479@faturas.example.com"
    assert profile.seed == 3000055479
    assert profile.pdf_password == "12345" and profile.supply_type == "trifasico"
    assert len(profile.uc_code) == 15 and profile.holder_document == "12345678909"


def test_lookup_by_number_or_uc_and_validation(store):
    maria = store.add_customer(name="Maria", password="x", email="maria@example.com")
    with pytest.raises(StoreError, match="holder_document"):
        store.add_installation(customer_id=maria.id, number="3000055479")
    inst = store.add_installation(customer_id=maria.id, number="3000055479", holder_document="12345678909",
                                  uc_code="112.972.140.182-501")
    assert store.installation("112972140182501").number == "3000055479"
    assert store.find_installation(inst.number, customer_id=maria.id + 1) is None
    with pytest.raises(StoreError):
        store.add_installation(customer_id=maria.id, number="123", holder_document="12345678909")
    with pytest.raises(StoreError):
        store.add_customer(name="Sem login", password="x")


def test_passwords_are_not_stored_in_clear(store):
    store.add_customer(name="Maria", password="Senha@123", email="maria@example.com")
    row = store.query("SELECT * FROM customers")[0]
    assert not any("Senha@123" in str(value) for value in tuple(row))
    assert store.check_password(1, "Senha@123") and not store.check_password(1, "senha@123")


def test_reset_forgets_everything(store):
    maria = store.add_customer(name="Maria", password="x", email="maria@example.com")
    store.add_installation(customer_id=maria.id, number="3000055479", holder_document="12345678909")
    scenarios.set_site_scenario(store, scenarios.Scenario(captcha="checkbox"))
    store.reset()
    assert store.customers() == [] and store.installations() == [] and store.events() == []
    assert scenarios.effective(store, None).captcha == "off"
    assert store.add_customer(name="Maria", password="x", email="maria@example.com").id == 1


def test_concurrent_counters_do_not_lose_updates(store):
    def bump():
        for _ in range(200):
            store.bump_counter("n")

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get_setting("n") == 800


def test_customer_scenario_overrides_the_site(store):
    maria = store.add_customer(name="Maria", password="x", email="maria@example.com")
    scenarios.set_site_scenario(store, scenarios.Scenario(variant="legacy", captcha="checkbox"))
    scenarios.set_customer_scenario(store, maria.id, scenarios.Scenario(captcha="off"))
    merged = scenarios.effective(store, maria.id)
    assert (merged.variant, merged.captcha) == ("legacy", "off")
    assert scenarios.effective(store, None).captcha == "checkbox"


def test_sessions_are_signed_and_expire(store):
    sessions = Sessions(store, b"k" * 32, ttl_seconds=60)
    other = Sessions(store, b"z" * 32, ttl_seconds=60)
    session = sessions.create(1, None)
    cookie = sessions.sign(session.id)
    assert sessions.unsign(cookie) == session.id
    assert other.unsign(cookie) is None
    assert sessions.get(session.id, now=session.expires_at - 1) is not None
    assert sessions.get(session.id, now=session.expires_at + 1) is None
    assert sessions.get(session.id) is None  # the expired row is gone
