"""What is stored about one holder (a CPF or CNPJ), exported or erased on request (LGPD, arts. 18 and 16).

Export gathers the holder's units, bills (with their PDFs), the ledger rows and forwards of those bills and
the adhesion attempts, as JSON plus files; secrets are reported as present, never decrypted.

Erasure removes the units (and with them, by foreign key, their bills, forwards, attempts and expected
generation), the bill PDFs and failure artifacts no other row still names, the saved browser sessions of
the holder's portal logins, and the personal fields of the ledger rows. The ledger rows themselves stay
(their mailbox UID keeps a re-delivered message from being processed again), and one audit row records
who erased how much, with the document masked. On SQLite, `secure_delete` zeroes the freed pages and a
checkpoint plus VACUUM leaves no old row version in the file or its WAL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, or_, text
from sqlmodel import Session, SQLModel, col, select

from storage.audit_models import ErasureAudit
from storage.blobs import Blobs
from storage.errors import UnitNotFound
from storage.login_models import PortalLogin
from storage.mail_models import Forward, Invoice, MailMessage
from storage.models import AdhesionAttempt, BrowserSession, InboxAddress, Unit, UnitPublic, utcnow
from storage.validators import normalise_document

# The ledger's personal fields; account, folder, UIDs, Message-ID and stage stay for idempotency.
_LEDGER_PERSONAL = ("sender", "subject", "recipient", "error", "user_message", "bill_installation",
                    "bill_uc_code", "bill_holder_name")


@dataclass
class HolderExport:
    """A holder's data: `record` as JSON-ready dicts, `files` as name → bytes (bill PDFs)."""

    record: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


def mask_document(document: str) -> str:
    """`529*****725`-style: enough to tell two erasures apart in the audit, not to find the person."""
    return document[:3] + "*" * (len(document) - 6) + document[-3:]


def holder_units(*, session: Session, document: str, integrator_id: int | None = None) -> list[Unit]:
    """The units held by `document` (any formatting), of one integrator or of all."""
    digits = normalise_document(document)
    query = select(Unit).where(Unit.holder_document == digits)
    if integrator_id is not None:
        query = query.where(Unit.integrator_id == integrator_id)
    return list(session.exec(query.order_by(col(Unit.id))).all())


def _row(model: SQLModel, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    data = model.model_dump(mode="json")
    return {key: value for key, value in data.items() if key not in drop}


def export_holder(*, session: Session, blobs: Blobs, document: str,
                  integrator_id: int | None = None) -> HolderExport:
    """Everything stored about the holder; UnitNotFound when no unit is held by `document`."""
    units = holder_units(session=session, document=document, integrator_id=integrator_id)
    if not units:
        raise UnitNotFound("no unit is held by this document")
    ids = [u.id for u in units]
    invoices = list(session.exec(select(Invoice).where(col(Invoice.unit_id).in_(ids)).order_by(col(Invoice.id))))
    invoice_ids = [i.id for i in invoices]
    export = HolderExport(record={"document": normalise_document(document), "exported_at": utcnow().isoformat()})
    export.record["units"] = [
        {**_row(u, drop=("portal_password_enc", "pdf_password_enc")),
         "has_portal_password": UnitPublic.from_unit(u).has_portal_password,
         "has_pdf_password": bool(u.pdf_password_enc)}
        for u in units]
    export.record["invoices"] = []
    for invoice in invoices:
        name = f"faturas/{invoice.id}-{invoice.reference_month}.pdf"
        try:
            export.files[name] = blobs.get(invoice.pdf_sha256)
        except FileNotFoundError:
            name = None  # listed with no file: the PDF is missing from the blob store
        export.record["invoices"].append({**_row(invoice), "file": name})
    export.record["forwards"] = [_row(f) for f in session.exec(
        select(Forward).where(col(Forward.invoice_id).in_(invoice_ids)).order_by(col(Forward.id)))]
    export.record["mail_messages"] = [_row(m) for m in session.exec(
        select(MailMessage).where(col(MailMessage.unit_id).in_(ids)).order_by(col(MailMessage.id)))]
    export.record["adhesion_attempts"] = [_row(a, drop=("artifacts",)) for a in session.exec(
        select(AdhesionAttempt).where(col(AdhesionAttempt.unit_id).in_(ids)).order_by(col(AdhesionAttempt.id)))]
    return export


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure removed."""

    units: int
    invoices: int
    blobs: int
    sessions: int
    ledger_rows: int


def erase_holder(*, engine: Engine, blobs: Blobs, document: str, actor: str,
                 integrator_id: int | None = None) -> ErasureReport:
    """Erase the holder's data (see the module docstring); UnitNotFound when no unit is held by `document`.

    Rows go in one transaction; blobs are deleted after it commits (a crash in between leaves unreferenced
    blobs, never a bill row without its PDF), then SQLite is compacted.
    """
    with Session(engine, expire_on_commit=False) as session:
        units = holder_units(session=session, document=document, integrator_id=integrator_id)
        if not units:
            raise UnitNotFound("no unit is held by this document")
        ids = [u.id for u in units]
        invoices = list(session.exec(select(Invoice).where(col(Invoice.unit_id).in_(ids))))
        attempts = list(session.exec(select(AdhesionAttempt).where(col(AdhesionAttempt.unit_id).in_(ids))))
        pdfs = {i.pdf_sha256 for i in invoices}
        artifacts = {a["blob"] for attempt in attempts for a in attempt.artifacts if a.get("blob")}
        logins = {(u.integrator_id, u.portal_login) for u in units if u.portal_login}
        sessions = [s for s in session.exec(select(BrowserSession))
                    if (s.integrator_id, s.portal_login) in logins]
        gone_logins = _logins_left_without_units(session, units)
        messages = list(session.exec(select(MailMessage).where(or_(
            col(MailMessage.unit_id).in_(ids), col(MailMessage.portal_login_id).in_(gone_logins)))))
        for message in messages:
            for name in _LEDGER_PERSONAL:
                setattr(message, name, None)
            session.add(message)
        for row in [*sessions, *attempts, *invoices]:
            session.delete(row)
        session.flush()
        for unit in units:
            session.delete(unit)
        session.flush()
        _forget_logins(session, gone_logins)
        still_named = set(session.exec(select(Invoice.pdf_sha256).where(col(Invoice.pdf_sha256).in_(pdfs))))
        session.add(ErasureAudit(actor=actor, document_masked=mask_document(normalise_document(document)),
                                 integrator_id=integrator_id, units=len(units), invoices=len(invoices),
                                 blobs=len(pdfs - still_named) + len(artifacts), sessions=len(sessions),
                                 ledger_rows=len(messages)))
        session.commit()
    removed = sum(blobs.delete(sha) for sha in pdfs - still_named)
    removed += sum(blobs.delete(sha, encrypted=True) for sha in artifacts)
    if engine.dialect.name == "sqlite":
        compact_sqlite(engine)
    return ErasureReport(units=len(units), invoices=len(invoices), blobs=removed, sessions=len(sessions),
                         ledger_rows=len(messages))


def _logins_left_without_units(session: Session, units: list[Unit]) -> list[int]:
    """The portal logins of these units that no other unit (another holder's) still uses."""
    login_ids = {u.portal_login_id for u in units if u.portal_login_id is not None}
    ids = {u.id for u in units}
    others = {uid for uid, in session.exec(select(Unit.portal_login_id).where(  # type: ignore[misc]
        col(Unit.portal_login_id).in_(login_ids), col(Unit.id).not_in(ids)))} if login_ids else set()
    return sorted(login_ids - others)


def _forget_logins(session: Session, login_ids: list[int]) -> None:
    """Delete the logins (login, password); their addresses stay reserved, routed nowhere (never reused)."""
    if not login_ids:
        return
    for reservation in session.exec(select(InboxAddress).where(col(InboxAddress.portal_login_id).in_(login_ids))):
        reservation.portal_login_id, reservation.released_at = None, utcnow()
        session.add(reservation)
    for login in session.exec(select(PortalLogin).where(col(PortalLogin.id).in_(login_ids))):
        session.delete(login)
    session.flush()


def compact_sqlite(engine: Engine) -> None:
    """Leave no deleted row's bytes in the SQLite file or its WAL (VACUUM rewrites the file, then truncate)."""
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        connection.execute(text("VACUUM"))
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
