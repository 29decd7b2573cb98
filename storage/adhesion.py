"""Adhesion attempts and saved browser sessions: keyword-only functions over a caller's session."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from storage.blobs import Blobs
from storage.login_models import LoginEmailStatus, PortalLogin
from storage.mail_models import Invoice
from storage.models import AdhesionAttempt, AdhesionStatus, BrowserSession, Unit, utcnow
from storage.secrets import KeyRing

# States `faturas adhere --all-pending` picks up: the bot can act on them without a person.
BOT_ACTIONABLE = (AdhesionStatus.PENDING, AdhesionStatus.RUNNING, AdhesionStatus.EMAIL_SET,
                  AdhesionStatus.ENROLLED_ELSEWHERE, AdhesionStatus.PORTAL_UNAVAILABLE)


def units_to_adhere(*, session: Session) -> list[Unit]:
    """Units whose next step is the bot's, oldest first."""
    query = select(Unit).where(col(Unit.adhesion_status).in_([s.value for s in BOT_ACTIONABLE])).order_by(
        col(Unit.id))
    return list(session.exec(query).all())


def start_attempt(*, session: Session, unit: Unit) -> AdhesionAttempt:
    """Record that an attempt began and mark the unit `running`."""
    attempt = AdhesionAttempt(unit_id=unit.id)  # type: ignore[arg-type]
    unit.adhesion_status = AdhesionStatus.RUNNING.value
    unit.updated_at = utcnow()
    session.add(attempt)
    session.add(unit)
    session.flush()
    return attempt


def finish_attempt(*, session: Session, attempt: AdhesionAttempt, unit: Unit, status: AdhesionStatus,
                   message: str | None, step: str | None, changes: list[str] | None = None,
                   evidence: str | None = None, submissions: int = 0, artifacts: list[dict] | None = None,
                   retention_days: int = 30) -> None:
    """Close an attempt with its outcome and move the unit to the state reached."""
    attempt.finished_at = utcnow()
    attempt.outcome = status.value
    attempt.step_reached = step
    attempt.message = message
    attempt.changes = list(changes or [])
    attempt.evidence = evidence
    attempt.submissions = submissions
    attempt.artifacts = list(artifacts or [])
    if artifacts:
        attempt.artifacts_expire_at = utcnow() + timedelta(days=retention_days)
    # A unit already verified by a received bill stays verified when a rerun confirms the enrolment. The
    # unit is `running` by now (start_attempt), so the bill itself is what tells: one that came by e-mail
    # and is not a copy paying someone else (the rule processor.store verifies a unit by).
    verified = status == AdhesionStatus.ENROLLED and any(
        "payee_mismatch" not in (reasons or []) for reasons in session.exec(select(Invoice.review_reasons).where(
            Invoice.unit_id == unit.id, Invoice.source == "email")).all())
    unit.adhesion_status = AdhesionStatus.VERIFIED.value if verified else status.value
    unit.adhesion_message = message
    unit.updated_at = utcnow()
    session.add(attempt)
    session.add(unit)
    if status in (AdhesionStatus.EMAIL_SET, AdhesionStatus.ENROLLED) and unit.portal_login_id is not None:
        login = session.get(PortalLogin, unit.portal_login_id)
        if login is not None and login.email_status != LoginEmailStatus.EMAIL_SET:
            # The access e-mail is the login's: set once, every later unit of the login finds it in place.
            login.email_status, login.email_set_at = LoginEmailStatus.EMAIL_SET, utcnow()
            session.add(login)


def attempts_of(*, session: Session, unit_id: int) -> list[AdhesionAttempt]:
    """A unit's attempts, newest first."""
    query = select(AdhesionAttempt).where(AdhesionAttempt.unit_id == unit_id).order_by(
        col(AdhesionAttempt.id).desc())
    return list(session.exec(query).all())


@dataclass(frozen=True)
class CredentialScope:
    """Whose saved session this is: one integrator and the exact credentials that opened it.

    `fingerprints` are keyed HMACs of (utility, integrator, login, password), one per key of the ring,
    newest first (storage.secrets.KeyRing.fingerprints); the password itself is never kept here.
    """

    utility: str
    integrator_id: int | None
    portal_login: str
    fingerprints: tuple[str, ...] = field(repr=False)

    @property
    def key(self) -> str:
        """The fingerprint under the newest key: what a session is saved under and contexts are grouped by."""
        return self.fingerprints[0]


def credential_scope(*, keys: KeyRing, utility: str, integrator_id: int | None, portal_login: str,
                     password: str) -> CredentialScope:
    """The scope of a unit's stored credentials: shared only with the same integrator, login and password."""
    material = json.dumps([utility, integrator_id, portal_login, password], ensure_ascii=False)
    return CredentialScope(utility=utility, integrator_id=integrator_id, portal_login=portal_login,
                           fingerprints=keys.fingerprints("browser-session", material))


def _saved(session: Session, scope: CredentialScope) -> list[BrowserSession]:
    query = select(BrowserSession).where(col(BrowserSession.fingerprint).in_(scope.fingerprints))
    return list(session.exec(query).all())


def load_browser_state(*, session: Session, scope: CredentialScope, keys: KeyRing) -> dict | None:
    """The saved, decrypted Playwright storage state opened by exactly these credentials, if any."""
    rows = sorted(_saved(session, scope), key=lambda row: scope.fingerprints.index(row.fingerprint))
    if not rows:
        return None
    saved = rows[0]
    saved.last_used_at = utcnow()
    session.add(saved)
    return json.loads(keys.decrypt(saved.state_enc))


def save_browser_state(*, session: Session, scope: CredentialScope, state: dict, keys: KeyRing) -> None:
    """Encrypt and keep the storage state these credentials opened, replacing the previous one."""
    token = keys.encrypt(json.dumps(state))
    saved = None
    for row in _saved(session, scope):
        if row.fingerprint == scope.key:
            saved = row
        else:
            session.delete(row)  # saved under an older key: replaced by this one
    if saved is None:
        saved = BrowserSession(utility=scope.utility, portal_login=scope.portal_login,
                               integrator_id=scope.integrator_id, fingerprint=scope.key, state_enc=token)
    else:
        saved.state_enc = token
        saved.saved_at = utcnow()
    session.add(saved)


def forget_browser_state(*, session: Session, scope: CredentialScope) -> None:
    """Drop the session of these credentials (after the portal rejected the login with it)."""
    for row in _saved(session, scope):
        session.delete(row)


def prune_artifacts(*, session: Session, blobs: Blobs, now: datetime | None = None) -> int:
    """Delete screenshots and traces past their retention; returns how many blobs were removed."""
    moment = now or utcnow()
    removed = 0
    expired = session.exec(select(AdhesionAttempt).where(col(AdhesionAttempt.artifacts_expire_at) <= moment)).all()
    for attempt in expired:
        for artifact in attempt.artifacts:
            removed += blobs.delete(artifact["blob"], encrypted=True)
        attempt.artifacts = []
        attempt.artifacts_expire_at = None
        session.add(attempt)
    return removed
