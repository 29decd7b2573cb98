"""Portal logins: one login (CPF/CNPJ or e-mail) at a utility, its units, and the inbox address they share.

Keyword-only functions over a session the caller owns (and commits). A message at a login's inbox whose
bill is of an installation no unit of the login has waits (`unregistered_installation`); registering that
unit claims it again (`requeue_waiting`), and the next mail pass processes it once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import or_, update
from sqlmodel import Session, SQLModel, col, select

from storage.errors import UnitNotFound
from storage.login_models import PortalLogin
from storage.mail_models import MailMessage, MessageStage
from storage.models import InboxAddress, Unit, UnitPublic, utcnow
from storage.secrets import KeyRing

log = structlog.get_logger(__name__)


def find_login(*, session: Session, utility: str, integrator_id: int | None, login: str) -> PortalLogin | None:
    """The integrator's login at the utility, if registered."""
    query = select(PortalLogin).where(PortalLogin.utility == utility, PortalLogin.login == login)
    query = query.where(PortalLogin.integrator_id == integrator_id if integrator_id is not None
                        else col(PortalLogin.integrator_id).is_(None))
    return session.exec(query).first()


def create_login(*, session: Session, utility: str, integrator_id: int | None, login: str, inbox_address: str,
                 password_enc: str | None) -> PortalLogin:
    """A new login with its (already reserved) inbox address, which is marked as the login's."""
    row = PortalLogin(utility=utility, integrator_id=integrator_id, login=login, inbox_address=inbox_address,
                      password_enc=password_enc)
    session.add(row)
    session.flush()
    reservation = session.get(InboxAddress, inbox_address)
    if reservation is not None:
        reservation.portal_login_id = row.id
        session.add(reservation)
    log.info("portal_login_created", portal_login_id=row.id, utility=utility, inbox_address=inbox_address)
    return row


def get_login(*, session: Session, login_id: int, integrator_id: int | None = None) -> PortalLogin:
    """A login by id (another integrator's is not found either); UnitNotFound otherwise."""
    row = session.get(PortalLogin, login_id)
    if row is None or (integrator_id is not None and row.integrator_id != integrator_id):
        raise UnitNotFound(f"no portal login {login_id}", user_message=f"Login {login_id} não encontrado.")
    return row


def list_logins(*, session: Session, integrator_id: int | None = None) -> list[PortalLogin]:
    """Logins ordered by id, optionally one integrator's."""
    query = select(PortalLogin).order_by(col(PortalLogin.id))
    if integrator_id is not None:
        query = query.where(PortalLogin.integrator_id == integrator_id)
    return list(session.exec(query).all())


def login_units(*, session: Session, login_id: int) -> list[Unit]:
    """The units under a login, by id."""
    return list(session.exec(select(Unit).where(Unit.portal_login_id == login_id).order_by(col(Unit.id))).all())


def rename_login(*, session: Session, unit: Unit, new_login: str) -> None:
    """The portal now logs in with another identifier (the access e-mail): the login and all its units follow."""
    units = login_units(session=session, login_id=unit.portal_login_id) if unit.portal_login_id else [unit]
    if unit.portal_login_id is not None and (row := session.get(PortalLogin, unit.portal_login_id)) is not None:
        row.login, row.updated_at = new_login, utcnow()
        session.add(row)
    for member in units:
        member.portal_login = new_login
        session.add(member)


def login_password(*, login: PortalLogin, keys: KeyRing) -> str | None:
    """The decrypted portal password of a login, for the bot only."""
    return keys.decrypt(login.password_enc) if login.password_enc else None


@dataclass(frozen=True)
class RoutingTable:
    """Where mail to an address goes: one unit (a unit without a login) or a login (routed by the bill)."""

    units: dict[str, int]
    logins: dict[str, int]


def routing_table(*, session: Session) -> RoutingTable:
    """Every routed address, lower-cased; an address of a login's unit belongs to the login."""
    logins = {address.lower(): login_id for address, login_id in session.exec(
        select(InboxAddress.address, InboxAddress.portal_login_id).where(
            col(InboxAddress.portal_login_id).is_not(None)))}
    logins.update({address.lower(): login_id for address, login_id in session.exec(
        select(PortalLogin.inbox_address, PortalLogin.id))})
    units = {address.lower(): unit_id for unit_id, address in session.exec(
        select(Unit.id, Unit.inbox_address).where(col(Unit.portal_login_id).is_(None)))
        if address.lower() not in logins}
    return RoutingTable(units=units, logins=logins)  # type: ignore[arg-type]


def requeue_waiting(*, session: Session, unit: Unit) -> int:
    """Claim again the messages of the unit's login that wait for this installation; the next pass runs them.

    A conditional UPDATE (only rows still waiting), so a message is handed back once however often this runs.
    """
    if unit.portal_login_id is None:
        return 0
    codes = [c for c in (col(MailMessage.bill_installation) == unit.installation if unit.installation else None,
                         col(MailMessage.bill_uc_code) == unit.uc_code if unit.uc_code else None) if c is not None]
    if not codes:
        return 0
    result = session.execute(
        update(MailMessage).where(MailMessage.portal_login_id == unit.portal_login_id,  # type: ignore[arg-type]
                                  MailMessage.stage == MessageStage.UNREGISTERED_INSTALLATION.value,
                                  or_(*codes))
        .values(stage=MessageStage.CLAIMED.value, attempts=0, error=None, user_message=None, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    count = result.rowcount or 0  # type: ignore[attr-defined]
    if count:
        log.info("waiting_messages_requeued", unit_id=unit.id, portal_login_id=unit.portal_login_id, messages=count)
    return count


def waiting_messages(*, session: Session, integrator_id: int | None = None) -> list[MailMessage]:
    """Messages waiting for their installation to be registered, oldest first."""
    query = select(MailMessage).where(MailMessage.stage == MessageStage.UNREGISTERED_INSTALLATION.value)
    if integrator_id is not None:
        query = query.join(PortalLogin, col(PortalLogin.id) == col(MailMessage.portal_login_id)).where(
            PortalLogin.integrator_id == integrator_id)
    return list(session.exec(query.order_by(col(MailMessage.id))).all())


def unit_input_from_message(*, session: Session, message_id: int, integrator_id: int | None = None) -> dict:
    """The fields of "Cadastrar esta instalação", pre-filled from a waiting message's bill and its login.

    The holder document and forward addresses are the ones most of the login's units have (the person still
    reviews them); nothing is invented: what neither the bill nor the login knows stays empty.
    """
    message = session.get(MailMessage, message_id)
    if message is None or message.stage != MessageStage.UNREGISTERED_INSTALLATION.value \
            or message.portal_login_id is None:
        raise UnitNotFound(f"no message {message_id} waiting for its installation",
                           user_message=f"Nenhuma fatura aguardando cadastro com o número {message_id}.")
    login = get_login(session=session, login_id=message.portal_login_id, integrator_id=integrator_id)
    units = login_units(session=session, login_id=login.id)  # type: ignore[arg-type]
    documents = Counter(u.holder_document for u in units)
    forwards = Counter(tuple(u.forward_to) for u in units)
    return {
        "installation": message.bill_installation, "uc_code": message.bill_uc_code,
        "client_name": message.bill_holder_name or (units[0].client_name if units else None),
        "holder_document": documents.most_common(1)[0][0] if documents else None,
        "portal_login": login.login,
        "forward_to": list(forwards.most_common(1)[0][0]) if forwards else [],
    }


class WaitingBill(SQLModel):
    """A message at a login's inbox waiting for its installation to be registered (no secret, no body)."""

    mail_message_id: int
    portal_login_id: int
    installation: str | None
    uc_code: str | None
    holder_name: str | None
    subject: str | None
    received_at: datetime
    message: str | None


class LoginPublic(SQLModel):
    """A portal login as shown to people and APIs: its units and waiting bills; the password only as a flag."""

    id: int
    utility: str
    login: str
    inbox_address: str
    email_status: str
    has_password: bool
    units: list[UnitPublic]
    waiting: list[WaitingBill]


def waiting_bill(message: MailMessage) -> WaitingBill:
    """Project a waiting message row."""
    return WaitingBill(mail_message_id=message.id or 0, portal_login_id=message.portal_login_id or 0,
                       installation=message.bill_installation, uc_code=message.bill_uc_code,
                       holder_name=message.bill_holder_name, subject=message.subject,
                       received_at=message.created_at, message=message.user_message)


def login_public(*, session: Session, login: PortalLogin) -> LoginPublic:
    """A login with its units and the bills waiting for one of its installations."""
    waiting = session.exec(select(MailMessage).where(
        MailMessage.portal_login_id == login.id,
        MailMessage.stage == MessageStage.UNREGISTERED_INSTALLATION.value).order_by(col(MailMessage.id))).all()
    return LoginPublic(id=login.id or 0, utility=login.utility, login=login.login,
                       inbox_address=login.inbox_address, email_status=login.email_status,
                       has_password=bool(login.password_enc),
                       units=[UnitPublic.from_unit(u) for u in login_units(session=session, login_id=login.id or 0)],
                       waiting=[waiting_bill(m) for m in waiting])
