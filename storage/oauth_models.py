"""The `oauth_token` table: OAuth token state of the mailboxes and the relay, shared by every worker.

On PostgreSQL the workers may run on separate machines with separate data folders; a token file in each
folder would let one worker spend a rotating refresh token that another still holds, which the provider
then refuses (`mailbox_auth_expired` on every worker but one). So there the state lives here, one row per
account, encrypted with the key ring like every stored secret (see processor.oauth).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from storage.columns import UtcDateTime
from storage.models import utcnow


class OAuthToken(SQLModel, table=True):
    """One account's token state: `name` as its token file would be called (`imap-main`, `smtp-relay`)."""

    __tablename__ = "oauth_token"

    name: str = Field(primary_key=True, max_length=200)
    payload: str
    """Fernet token of the JSON state (refresh token, access token, expiry, state, reason)."""
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
