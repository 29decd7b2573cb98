"""Saved browser sessions are found only by the credentials that opened them (issue 14, items 1 and 3)."""

from __future__ import annotations

from sqlmodel import select

from storage.adhesion import credential_scope, forget_browser_state, load_browser_state, save_browser_state
from storage.engine import session_scope
from storage.integrators import create_integrator
from storage.models import BrowserSession
from storage.secrets import KeyRing, new_key

STATE = {"cookies": [{"name": "sid", "value": "abc"}], "origins": []}


def _scope(keys, integrator_id, password, login="529.982.247-25"):
    return credential_scope(keys=keys, utility="cemig", integrator_id=integrator_id, portal_login=login,
                            password=password)


def test_a_session_is_found_only_by_its_integrator_login_and_password(engine):
    keys = KeyRing((new_key(),))
    with session_scope(engine) as session:
        a = create_integrator(session=session, email="a@example.com", password_hash="x").id
        b = create_integrator(session=session, email="b@example.com", password_hash="x").id
        save_browser_state(session=session, scope=_scope(keys, a, "right-1"), state=STATE, keys=keys)
    with session_scope(engine) as session:
        assert load_browser_state(session=session, scope=_scope(keys, a, "right-1"), keys=keys) == STATE
        assert load_browser_state(session=session, scope=_scope(keys, a, "wrong-2"), keys=keys) is None
        assert load_browser_state(session=session, scope=_scope(keys, b, "right-1"), keys=keys) is None
        assert load_browser_state(session=session, scope=_scope(keys, None, "right-1"), keys=keys) is None
        assert load_browser_state(session=session, scope=_scope(keys, a, "right-1", login="other"), keys=keys) is None
        (row,) = session.exec(select(BrowserSession)).all()
        assert "right-1" not in row.fingerprint and "right-1" not in row.state_enc and row.integrator_id == a


def test_a_session_saved_under_an_older_key_is_found_after_rotation_and_replaced(engine):
    old = KeyRing((new_key(),))
    rotated = KeyRing((new_key(), *old.keys))
    with session_scope(engine) as session:
        save_browser_state(session=session, scope=_scope(old, None, "pw-1"), state=STATE, keys=old)
    with session_scope(engine) as session:
        assert load_browser_state(session=session, scope=_scope(rotated, None, "pw-1"), keys=rotated) == STATE
        save_browser_state(session=session, scope=_scope(rotated, None, "pw-1"), state={"cookies": []}, keys=rotated)
    with session_scope(engine) as session:
        (row,) = session.exec(select(BrowserSession)).all()
        assert row.fingerprint == _scope(rotated, None, "pw-1").key
        forget_browser_state(session=session, scope=_scope(rotated, None, "pw-1"))
    with session_scope(engine) as session:
        assert session.exec(select(BrowserSession)).all() == []
