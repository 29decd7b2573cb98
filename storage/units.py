"""Units: keyword-only functions over a session the caller owns (and commits)."""

from __future__ import annotations

import secrets as random_tokens
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from sqlalchemy import or_
from sqlmodel import Session, func, select

from storage import validators
from storage.errors import DuplicateUnit, SecretKeyMissing, UnitInputError, UnitNotFound
from storage.login_models import PortalLogin
from storage.logins import create_login, find_login, requeue_waiting, unit_input_from_message
from storage.mail_models import MailMessage
from storage.models import AdhesionStatus, InboxAddress, Unit, UnitCreate, UnitUpdate, utcnow
from storage.secrets import HOW_TO_CREATE, KeyRing

log = structlog.get_logger(__name__)
_TOKEN_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 - no 0/o, 1/l/i: people copy these by hand


@dataclass(frozen=True)
class InboxPolicy:
    """How inbox addresses are made: a pattern with {installation}, {token}, {utility}, and a domain."""

    pattern: str
    domain: str

    def candidate(self, *, installation: str, utility: str) -> str:
        """One address following the pattern, with a fresh random token."""
        token = "".join(random_tokens.choice(_TOKEN_ALPHABET) for _ in range(4))
        local = self.pattern.format(installation=installation, token=token, utility=utility)
        return f"{local.lower()}@{self.domain}"


def _require_keys(keys: KeyRing | None, what: str) -> KeyRing:
    if keys is None:
        raise SecretKeyMissing(f"storing the {what} needs an encryption key: {HOW_TO_CREATE}")
    return keys


def _find_duplicate(session: Session, *, utility: str, installation: str | None, uc_code: str | None,
                    exclude_id: int | None = None) -> Unit | None:
    clauses = []
    if installation:
        clauses.append(Unit.installation == installation)
    if uc_code:
        clauses.append(Unit.uc_code == uc_code)
    if not clauses:
        return None
    query = select(Unit).where(Unit.utility == utility, or_(*clauses))
    if exclude_id is not None:
        query = query.where(Unit.id != exclude_id)
    return session.exec(query).first()


def _duplicate_error(existing: Unit) -> DuplicateUnit:
    code = existing.installation or existing.uc_code
    return DuplicateUnit(f"installation {code} is already registered as unit {existing.id}",
                         user_message=f"A instalação {code} já está cadastrada (unidade {existing.id}).")


def new_inbox_address(*, session: Session, policy: InboxPolicy, installation: str, utility: str) -> str:
    """Reserve an address no unit has ever had; the reservation is kept after the unit is removed."""
    for _ in range(50):
        address = policy.candidate(installation=installation, utility=utility)
        if session.get(InboxAddress, address) is None:
            session.add(InboxAddress(address=address))
            return address
    raise RuntimeError("could not find a free inbox address in 50 tries: lengthen the token")


def create_unit(*, session: Session, unit_in: UnitCreate, keys: KeyRing | None, inbox: InboxPolicy,
                utility: str = "cemig", integrator_id: int | None = None) -> Unit:
    """Register a unit: checks for a duplicate installation, encrypts secrets, gives it its inbox address.

    A unit with a portal login joins that login (created on first use) and shares its inbox address;
    messages of the login waiting for this installation are claimed again, to be processed once.
    """
    if (existing := _find_duplicate(session, utility=utility, installation=unit_in.installation,
                                    uc_code=unit_in.uc_code)) is not None:
        raise _duplicate_error(existing)
    code = unit_in.installation or unit_in.uc_code or ""
    portal_password_enc = (_require_keys(keys, "portal password").encrypt(unit_in.portal_password)
                           if unit_in.portal_password else None)
    login = None
    if unit_in.portal_login:
        login = _join_login(session, utility=utility, integrator_id=integrator_id, login=unit_in.portal_login,
                            password_enc=portal_password_enc, inbox=inbox, code=code)
    unit = Unit(
        utility=utility, installation=unit_in.installation, uc_code=unit_in.uc_code,
        client_name=unit_in.client_name, holder_document=unit_in.holder_document,
        portal_login=unit_in.portal_login, forward_to=unit_in.forward_to or [],
        email_bills_enabled=True if unit_in.email_bills_enabled is None else unit_in.email_bills_enabled,
        inbox_address=login.inbox_address if login is not None else
        new_inbox_address(session=session, policy=inbox, installation=code, utility=utility),
        portal_login_id=login.id if login is not None else None,
        integrator_id=integrator_id,
        portal_password_enc=portal_password_enc if login is None else None,  # else the login's is the only copy
    )
    if unit_in.pdf_password:
        unit.pdf_password_enc = _require_keys(keys, "PDF password").encrypt(unit_in.pdf_password)
    session.add(unit)
    session.flush()
    if login is None:
        session.get(InboxAddress, unit.inbox_address).unit_id = unit.id  # type: ignore[union-attr]
    log.info("unit_created", unit_id=unit.id, installation=code, inbox_address=unit.inbox_address,
             portal_login_id=unit.portal_login_id,
             has_portal_password=bool(portal_password_enc), has_pdf_password=bool(unit.pdf_password_enc))
    requeue_waiting(session=session, unit=unit)
    return unit


def _join_login(session: Session, *, utility: str, integrator_id: int | None, login: str,
                password_enc: str | None, inbox: InboxPolicy, code: str) -> PortalLogin:
    """The integrator's login (created with a new inbox address on first use); a new password replaces the old."""
    row = find_login(session=session, utility=utility, integrator_id=integrator_id, login=login)
    if row is None:
        address = new_inbox_address(session=session, policy=inbox, installation=code, utility=utility)
        return create_login(session=session, utility=utility, integrator_id=integrator_id, login=login,
                            inbox_address=address, password_enc=password_enc)
    if password_enc is not None:
        row.password_enc = password_enc
        row.updated_at = utcnow()
        session.add(row)
    return row


def get_unit(*, session: Session, ref: int | str, integrator_id: int | None = None) -> Unit:
    """A unit by id, installation number or UC code; UnitNotFound otherwise.

    With `integrator_id`, another integrator's unit is not found either (the same error: no hint it exists).
    """
    text = str(ref).strip()
    if validators.looks_like_uc_code(text):
        text = validators.normalise_uc_code(text)
    unit: Unit | None = None
    if text.isdigit() and len(text) < 10:
        unit = session.get(Unit, int(text))
    elif text.isdigit():
        unit = session.exec(select(Unit).where(or_(Unit.installation == text, Unit.uc_code == text))).first()
    if unit is not None and integrator_id is not None and unit.integrator_id != integrator_id:
        unit = None
    if unit is None:
        raise UnitNotFound(f"no unit with id or installation {text!r}",
                           user_message=f"Unidade {text} não encontrada.")
    return unit


def list_units(*, session: Session, status: AdhesionStatus | None = None, search: str | None = None,
               limit: int | None = None, offset: int = 0, integrator_id: int | None = None,
               statuses: list[AdhesionStatus] | None = None) -> list[Unit]:
    """Units ordered by id, optionally filtered by adhesion state(s), owner or a search over name/installation."""
    query = select(Unit).order_by(Unit.id)  # type: ignore[arg-type]
    if integrator_id is not None:
        query = query.where(Unit.integrator_id == integrator_id)
    if statuses is not None:
        query = query.where(Unit.adhesion_status.in_([s.value for s in statuses]))  # type: ignore[attr-defined]
    if status is not None:
        query = query.where(Unit.adhesion_status == status.value)
    if search:
        like = f"%{search.strip().lower()}%"
        query = query.where(or_(func.lower(Unit.client_name).like(like), Unit.installation.like(like),  # type: ignore[union-attr]
                                Unit.uc_code.like(like), Unit.inbox_address.like(like)))  # type: ignore[union-attr]
    return list(session.exec(query.offset(offset).limit(limit)).all())


def update_unit(*, session: Session, unit: Unit, unit_in: UnitUpdate, keys: KeyRing | None) -> Unit:
    """Apply the fields given; "" clears a secret; a changed installation is checked for duplicates."""
    changes = unit_in.model_dump(exclude_unset=True)
    installation = changes.get("installation", unit.installation)
    uc_code = changes.get("uc_code", unit.uc_code)
    if not installation and not uc_code:
        raise UnitInputError("installation", "a unit needs its installation number or UC code")
    if (existing := _find_duplicate(session, utility=unit.utility, installation=installation,
                                    uc_code=uc_code, exclude_id=unit.id)) is not None:
        raise _duplicate_error(existing)
    if changes.get("portal_login") and changes["portal_login"] != unit.portal_login:
        _move_to_login(session, unit=unit, login=changes["portal_login"])
    for field in ("installation", "uc_code", "client_name", "holder_document", "portal_login",
                  "forward_to", "email_bills_enabled"):
        if field in changes and (changes[field] is not None or field in {"installation", "uc_code", "portal_login"}):
            setattr(unit, field, changes[field])
    if changes.get("pdf_password") is not None:
        value = changes["pdf_password"]
        unit.pdf_password_enc = _require_keys(keys, "PDF password").encrypt(value) if value else None
    if changes.get("portal_password") is not None:
        _set_portal_password(session, unit=unit, value=changes["portal_password"], keys=keys)
    unit.updated_at = utcnow()
    session.add(unit)
    session.flush()
    log.info("unit_updated", unit_id=unit.id, fields=sorted(changes))
    if {"installation", "uc_code", "portal_login"} & set(changes):
        requeue_waiting(session=session, unit=unit)
    return unit


def _set_portal_password(session: Session, *, unit: Unit, value: str, keys: KeyRing | None) -> None:
    """A unit's portal password is its login's (the only copy); a unit without a login keeps its own."""
    token = _require_keys(keys, "portal password").encrypt(value) if value else None
    login = session.get(PortalLogin, unit.portal_login_id) if unit.portal_login_id is not None else None
    if login is None:
        unit.portal_password_enc = token
        return
    login.password_enc, login.updated_at = token, utcnow()
    unit.portal_password_enc = None
    session.add(login)
    if token and unit.adhesion_status == AdhesionStatus.PASSWORD_REQUIRED.value:
        # The password asked for is given again: the bot may enrol the unit.
        unit.adhesion_status, unit.adhesion_message = AdhesionStatus.PENDING.value, None


def _move_to_login(session: Session, *, unit: Unit, login: str) -> None:
    """Put a unit under another login: it takes that login's address, its old one stays routed to the old one.

    A login not registered yet is created with the unit's current address (the e-mail the portal may already
    hold), so nothing already on its way is lost.
    """
    row = find_login(session=session, utility=unit.utility, integrator_id=unit.integrator_id, login=login)
    if row is None:
        shared = unit.portal_login_id is not None and len(list(session.exec(
            select(Unit.id).where(Unit.portal_login_id == unit.portal_login_id)))) > 1
        if shared:
            raise UnitInputError("portal_login", "a unit sharing its login's inbox cannot start a new login; "
                                 "register the new login's units with it instead")
        row = create_login(session=session, utility=unit.utility, integrator_id=unit.integrator_id, login=login,
                           inbox_address=unit.inbox_address, password_enc=_password_enc_of(session, unit))
    old = session.get(InboxAddress, unit.inbox_address)
    if old is not None and old.portal_login_id is None:  # its own address: still routed, now by the bill
        old.portal_login_id = row.id
        session.add(old)
    unit.portal_login_id = row.id
    unit.inbox_address = row.inbox_address
    unit.portal_password_enc = None  # the new login's password is the unit's now


def _password_enc_of(session: Session, unit: Unit) -> str | None:
    """The encrypted portal password a unit logs in with: its login's, else (no login) its own."""
    login = session.get(PortalLogin, unit.portal_login_id) if unit.portal_login_id is not None else None
    return login.password_enc if login is not None else unit.portal_password_enc


def learn_uc_code(*, session: Session, unit: Unit, uc_code: str) -> bool:
    """Give a unit registered by its installation the UC code its first 2026 bill printed.

    Only the code as printed on a bill routed to the unit (never one derived from the installation). Refused
    (False) when the unit already has another code, or another unit of the utility has this one.
    """
    code = validators.normalise_uc_code(uc_code)
    if unit.uc_code is not None:
        return unit.uc_code == code
    if _find_duplicate(session, utility=unit.utility, installation=None, uc_code=code, exclude_id=unit.id):
        log.warning("unit_uc_code_conflicted", unit_id=unit.id, uc_code=code)
        return False
    unit.uc_code = code
    unit.updated_at = utcnow()
    session.add(unit)
    log.info("unit_uc_code_learned", unit_id=unit.id, installation=unit.installation, uc_code=code)
    return True


def remove_unit(*, session: Session, unit: Unit) -> None:
    """Delete a unit; its inbox address stays reserved so it is never handed out again."""
    reservation = session.get(InboxAddress, unit.inbox_address)
    if reservation is not None and reservation.portal_login_id is None:  # a login's address outlives its units
        reservation.released_at = utcnow()
    session.delete(unit)
    session.flush()
    log.info("unit_removed", unit_id=unit.id, inbox_address=unit.inbox_address)


def set_adhesion_status(*, session: Session, unit: Unit, status: AdhesionStatus, message: str | None = None) -> None:
    """Move a unit to an adhesion state with the message a person acts on."""
    unit.adhesion_status = status.value
    unit.adhesion_message = message
    unit.updated_at = utcnow()
    session.add(unit)


def portal_password(*, session: Session, unit: Unit, keys: KeyRing) -> str | None:
    """The decrypted portal password, for the bot only: the login's (the only copy) for a unit with one."""
    token = _password_enc_of(session, unit)
    return keys.decrypt(token) if token else None


def pdf_password(*, unit: Unit, keys: KeyRing) -> str | None:
    """The decrypted PDF password, for the unlock stage only."""
    return keys.decrypt(unit.pdf_password_enc) if unit.pdf_password_enc else None


def rotate_unit_secrets(*, session: Session, keys: KeyRing) -> int:
    """Re-encrypt every stored unit secret under the newest key; returns how many were rewritten."""
    count = 0
    for unit in session.exec(select(Unit)).all():
        for column in ("portal_password_enc", "pdf_password_enc"):
            token = getattr(unit, column)
            if token:
                setattr(unit, column, keys.rotate(token))
                count += 1
        session.add(unit)
    for login in session.exec(select(PortalLogin)).all():
        if login.password_enc:
            login.password_enc = keys.rotate(login.password_enc)
            session.add(login)
            count += 1
    session.flush()
    return count


def register_waiting_installation(*, session: Session, message_id: int, overrides: dict, keys: KeyRing | None,
                                  inbox: InboxPolicy, integrator_id: int | None = None,
                                  confirm: Callable[[UnitCreate], None] | None = None) -> Unit:
    """"Cadastrar esta instalação": a unit from a waiting bill's pre-filled fields and the person's changes.

    The unit joins the bill's login (same utility, owner and inbox); the waiting message is claimed again and
    the next mail pass processes it once. `confirm` sees the final input first and may raise to stop.
    """
    fields = unit_input_from_message(session=session, message_id=message_id, integrator_id=integrator_id)
    login = session.get(PortalLogin, session.get(MailMessage, message_id).portal_login_id)  # type: ignore[union-attr]
    unit_in = UnitCreate(**{**fields, **{k: v for k, v in overrides.items() if v is not None}})
    if confirm is not None:
        confirm(unit_in)
    return create_unit(session=session, unit_in=unit_in, keys=keys, inbox=inbox, utility=login.utility,  # type: ignore[union-attr]
                       integrator_id=login.integrator_id)  # type: ignore[union-attr]
