"""Database tables (SQLModel) and the input/output shapes around them.

One family per entity, as in the FastAPI template: Create/Update (plain input, validated) → table →
Public (what leaves the storage layer; never a secret).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from pydantic import ConfigDict, field_validator, model_validator
from sqlalchemy import JSON, Column, String, UniqueConstraint, false
from sqlalchemy.orm import object_session
from sqlmodel import Field, SQLModel

from storage import validators
from storage.columns import UtcDateTime


def utcnow() -> datetime:
    """Timezone-aware now, for every timestamp we store."""
    return datetime.now(UTC)


class AdhesionStatus(enum.StrEnum):
    """Where a unit stands in the Conta Digital adhesion, see DESIGN.md."""

    PENDING = "pending"
    RUNNING = "running"
    EMAIL_SET = "email_set"
    ENROLLED = "enrolled"
    VERIFIED = "verified"
    INVALID_CREDENTIALS = "invalid_credentials"
    CAPTCHA_REQUIRED = "captcha_required"
    INSTALLATION_NOT_FOUND = "installation_not_found"
    ENROLLED_ELSEWHERE = "enrolled_elsewhere"
    PORTAL_UNAVAILABLE = "portal_unavailable"
    PORTAL_CHANGED = "portal_changed"
    BILL_OVERDUE = "bill_overdue"
    PASSWORD_REQUIRED = "password_required"  # noqa: S105 - a state: the login's password was erased or never given


# Who must act next, per state: the dashboard and `faturas status` group units by this.
NEXT_ACTOR: dict[AdhesionStatus, str] = {
    AdhesionStatus.PENDING: "bot",
    AdhesionStatus.RUNNING: "bot",
    AdhesionStatus.EMAIL_SET: "bot",
    AdhesionStatus.ENROLLED: "utility",
    AdhesionStatus.VERIFIED: "nobody",
    AdhesionStatus.INVALID_CREDENTIALS: "client",
    AdhesionStatus.CAPTCHA_REQUIRED: "operator",
    AdhesionStatus.INSTALLATION_NOT_FOUND: "integrator",
    AdhesionStatus.ENROLLED_ELSEWHERE: "bot",
    AdhesionStatus.PORTAL_UNAVAILABLE: "bot",
    AdhesionStatus.PORTAL_CHANGED: "developer",
    AdhesionStatus.BILL_OVERDUE: "integrator",
    AdhesionStatus.PASSWORD_REQUIRED: "integrator",
}


def _tz() -> Column:
    return Column(UtcDateTime(), nullable=False)


class UnitFields(SQLModel):
    """Plain fields a caller gives for a unit; secrets arrive in clear and are encrypted by storage."""

    model_config = ConfigDict(str_strip_whitespace=True)  # type: ignore[assignment]

    installation: str | None = None
    uc_code: str | None = None
    client_name: str | None = None
    holder_document: str | None = None
    portal_login: str | None = None
    portal_password: str | None = None
    forward_to: list[str] | None = None
    email_bills_enabled: bool | None = None
    pdf_password: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _uc_code_typed_as_installation(cls, data: Any) -> Any:
        """A UC code given where the installation goes (CLI `-i`, CSV, form, API) is taken as the UC code."""
        if not isinstance(data, dict):
            return data
        typed = data.get("installation")
        if isinstance(typed, str) and validators.looks_like_uc_code(typed):
            if data.get("uc_code") and validators.normalise_uc_code(str(data["uc_code"])) != \
                    validators.normalise_uc_code(typed):
                raise validators.UnitInputError("installation", f"{typed!r} is a UC code, and a different "
                                                "uc_code is given too")
            data = {**{k: v for k, v in data.items() if k != "installation"}, "uc_code": typed}
        return data

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, data: object) -> object:
        # The one check of lengths and control characters for CSV, API and dashboard (storage.validators).
        return validators.check_plain_text(data)

    @field_validator("installation")
    @classmethod
    def _installation(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        code = validators.normalise_installation(value)
        if len(code) != 10:
            raise validators.UnitInputError(
                "installation", f"{value!r} has 15 digits: give it as the UC code (uc_code)")
        return code

    @field_validator("uc_code")
    @classmethod
    def _uc(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        return validators.normalise_uc_code(value)

    @field_validator("holder_document")
    @classmethod
    def _document(cls, value: str | None) -> str | None:
        return None if value is None else validators.normalise_document(value)

    @field_validator("forward_to", mode="before")
    @classmethod
    def _forward(cls, value: object) -> list[str] | None:
        return None if value is None else validators.normalise_email_list(value)

    @field_validator("portal_login")
    @classmethod
    def _login(cls, value: str | None) -> str | None:
        if not value:
            return None
        # CEMIG accepts a CPF/CNPJ (masked or not) or an e-mail; keep CPF/CNPJ as digits.
        if "@" in value:
            return validators.normalise_email(value, field="portal_login")
        return validators.normalise_document(value, field="portal_login")

    @field_validator("client_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not value:
            raise validators.UnitInputError("client_name", "must not be empty")
        return value


class UnitCreate(UnitFields):
    """A new unit: installation (10 digits) or UC code (15), client name and holder document required."""

    client_name: str
    holder_document: str

    @model_validator(mode="after")
    def _one_code(self) -> UnitCreate:
        if not self.installation and not self.uc_code:
            raise validators.UnitInputError(
                "installation", "give the 10-digit installation number or the 15-digit UC code")
        return self


class UnitUpdate(UnitFields):
    """Changes to a unit; None leaves a field as it is, "" clears an optional secret."""


class Unit(SQLModel, table=True):
    """A consumer unit (unidade consumidora) of one client at one utility."""

    __tablename__ = "unit"
    __table_args__ = (
        UniqueConstraint("utility", "installation", name="uq_unit_utility_installation"),
        UniqueConstraint("utility", "uc_code", name="uq_unit_utility_uc_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    utility: str = Field(default="cemig", max_length=32, index=True)
    installation: str | None = Field(default=None, max_length=10)
    uc_code: str | None = Field(default=None, max_length=15)
    client_name: str = Field(max_length=200)
    holder_document: str = Field(max_length=14)
    portal_login: str | None = Field(default=None, max_length=254)
    portal_password_enc: str | None = Field(default=None, sa_column=Column(String, nullable=True))
    inbox_address: str = Field(max_length=254, index=True)
    """Where its bills arrive; units of one portal login share the login's address (portal_login table)."""
    portal_login_id: int | None = Field(default=None, foreign_key="portal_login.id", index=True,
                                        ondelete="SET NULL")
    forward_to: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    email_bills_enabled: bool = Field(default=True)
    forward_report: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    """Attach the unit's monthly report (PDF) to each bill forwarded to the client; the integrator's choice."""
    pdf_password_enc: str | None = Field(default=None, sa_column=Column(String, nullable=True))
    adhesion_status: str = Field(default=AdhesionStatus.PENDING.value, max_length=32, index=True)
    adhesion_message: str | None = Field(default=None, max_length=1000)
    adhesion_next_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    """When the service may try the adhesion again (None: as soon as the state is the bot's)."""
    adhesion_failures: int = Field(default=0)
    """Transient failures in a row, for the retry schedule; reset by any other outcome."""
    adhesion_lease_owner: str | None = Field(default=None, max_length=200)
    adhesion_lease_until: datetime | None = Field(default=None,
                                                 sa_column=Column(UtcDateTime(), nullable=True))
    integrator_id: int | None = Field(default=None, foreign_key="integrator.id", index=True, ondelete="SET NULL")
    """The integrator who owns the unit (dashboard and API); None = not assigned yet (CLI-only)."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_tz())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_tz())


class InboxAddress(SQLModel, table=True):
    """Every inbox address ever handed out: an address is never given to a second unit."""

    __tablename__ = "inbox_address"

    address: str = Field(primary_key=True, max_length=254)
    unit_id: int | None = Field(default=None, index=True)
    portal_login_id: int | None = Field(default=None, index=True)
    """Set for a portal login's address, and for every address of a unit of that login: mail there is routed
    by the bill's installation among the login's units."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_tz())
    released_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class UnitPublic(SQLModel):
    """A unit as shown to people and APIs: secrets only as "is set" flags."""

    id: int
    utility: str
    installation: str | None
    uc_code: str | None
    client_name: str
    holder_document: str
    portal_login: str | None
    portal_login_id: int | None = None
    has_portal_password: bool
    inbox_address: str
    forward_to: list[str]
    email_bills_enabled: bool
    has_pdf_password: bool
    adhesion_status: str
    next_actor: str
    adhesion_message: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_unit(cls, unit: Unit) -> UnitPublic:
        """Project a table row; encrypted columns become booleans.

        A unit of a portal login has the login's password (the only copy), read through the row's session.
        """
        assert unit.id is not None  # noqa: S101 - a stored unit always has an id
        has_portal_password = bool(unit.portal_password_enc)
        if unit.portal_login_id is not None and (session := object_session(unit)) is not None:
            from storage.login_models import PortalLogin  # noqa: PLC0415 - login_models imports this module

            login = session.get(PortalLogin, unit.portal_login_id)
            has_portal_password = bool(login is not None and login.password_enc)
        return cls(
            id=unit.id, utility=unit.utility, installation=unit.installation, uc_code=unit.uc_code,
            client_name=unit.client_name, holder_document=unit.holder_document,
            portal_login=unit.portal_login, portal_login_id=unit.portal_login_id,
            has_portal_password=has_portal_password,
            inbox_address=unit.inbox_address, forward_to=list(unit.forward_to),
            email_bills_enabled=unit.email_bills_enabled, has_pdf_password=bool(unit.pdf_password_enc),
            adhesion_status=unit.adhesion_status,
            next_actor=NEXT_ACTOR[AdhesionStatus(unit.adhesion_status)],
            adhesion_message=unit.adhesion_message, created_at=unit.created_at, updated_at=unit.updated_at,
        )


class AdhesionAttempt(SQLModel, table=True):
    """One run of the adhesion flow for a unit: where it got to, how it ended, what was kept."""

    __tablename__ = "adhesion_attempt"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True, ondelete="CASCADE")
    started_at: datetime = Field(default_factory=utcnow, sa_column=_tz())
    finished_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    outcome: str | None = Field(default=None, max_length=32)
    step_reached: str | None = Field(default=None, max_length=64)
    message: str | None = Field(default=None, max_length=2000)
    changes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    evidence: str | None = Field(default=None, max_length=2000)
    submissions: int = Field(default=0)
    artifacts: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """Kept evidence of a failure: [{"kind": "screenshot"|"trace", "name": …, "blob": sha256}], encrypted."""
    artifacts_expire_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True))


class BrowserSession(SQLModel, table=True):
    """A saved, encrypted browser session (Playwright storage state), reused to skip the captcha.

    Scoped to one integrator and to the credentials that opened it: `fingerprint` is a keyed HMAC of
    (utility, integrator, portal login, password) (see storage.adhesion.credential_scope), so a unit is only
    ever given a session its own stored credentials opened, never another integrator's or another
    password's. The plain password is never stored here.
    """

    __tablename__ = "browser_session"
    __table_args__ = (UniqueConstraint("fingerprint", name="uq_browser_session_fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    utility: str = Field(max_length=32)
    portal_login: str = Field(max_length=254)
    integrator_id: int | None = Field(default=None, foreign_key="integrator.id", index=True, ondelete="CASCADE")
    fingerprint: str = Field(max_length=64)
    state_enc: str = Field(sa_column=Column(String, nullable=False))
    saved_at: datetime = Field(default_factory=utcnow, sa_column=_tz())
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


# The dashboard's tables (Unit.integrator_id points at one): registered with every import of the models.
import storage.web_models  # noqa: E402,F401


class Worker(SQLModel, table=True):
    """A running `faturas run` process: its heartbeat tells `faturas status` and other workers it is alive."""

    __tablename__ = "worker"

    owner: str = Field(primary_key=True, max_length=200)
    host: str = Field(max_length=255)
    pid: int
    started_at: datetime = Field(default_factory=utcnow, sa_column=_tz())
    heartbeat_at: datetime = Field(default_factory=utcnow, sa_column=_tz())
    stopping: bool = Field(default=False)


class JobRun(SQLModel, table=True):
    """The last run of each scheduled job (any worker): when, how long, and its one-line summary."""

    __tablename__ = "job_run"

    job: str = Field(primary_key=True, max_length=64)
    owner: str | None = Field(default=None, max_length=200)
    started_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    next_run_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    summary: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, max_length=1000)
import storage.audit_models  # noqa: E402,F401
import storage.blob_models  # noqa: E402,F401
import storage.generation  # noqa: E402,F401
import storage.login_models  # noqa: E402,F401
import storage.oauth_models  # noqa: E402,F401
