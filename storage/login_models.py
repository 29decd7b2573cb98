"""The `portal_login` table: one utility login (CPF/CNPJ or e-mail) and the units (installations) under it.

CEMIG keeps one access e-mail per login, so every unit of a login shares the login's inbox address; a bill
arriving there is given to the unit whose installation (or UC code) it prints (processor.login_route).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.columns import UtcDateTime
from storage.models import utcnow


class LoginEmailStatus:
    """Whether the login's access e-mail at the portal is its inbox address (set once per login)."""

    PENDING = "pending"
    EMAIL_SET = "email_set"


class PortalLogin(SQLModel, table=True):
    """A login at a utility's portal, owned by one integrator; its units share `inbox_address`.

    `password_enc` is encrypted (storage.secrets); the saved browser session of these credentials is the
    `browser_session` row whose fingerprint they give (storage.adhesion.credential_scope).
    """

    __tablename__ = "portal_login"
    __table_args__ = (UniqueConstraint("utility", "integrator_id", "login", name="uq_portal_login_owner_login"),)

    id: int | None = Field(default=None, primary_key=True)
    utility: str = Field(default="cemig", max_length=32)
    integrator_id: int | None = Field(default=None, foreign_key="integrator.id", index=True, ondelete="SET NULL")
    login: str = Field(max_length=254)
    password_enc: str | None = Field(default=None, sa_column=Column(String, nullable=True))
    inbox_address: str = Field(max_length=254, unique=True)
    email_status: str = Field(default=LoginEmailStatus.PENDING, max_length=32)
    email_set_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    discovery_json: str | None = Field(default=None, sa_column=Column(String, nullable=True))
    """The installations the portal listed at the last discovery (JSON list; storage.discovery reads it)."""
    discovered_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    discovery_requested_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    """Set by "Buscar instalações deste login"; the service's `discovery_queue` job claims and clears it."""
    discovery_status: str | None = Field(default=None, max_length=32)
    """How the last discovery ended (`queued`, `running`, bot.discovery.DiscoveryStatus); None: never asked."""
    discovery_message: str | None = Field(default=None, max_length=500)
    """The pt-BR message of that end, for the dashboard."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
