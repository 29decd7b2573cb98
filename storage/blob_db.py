"""Blobs in the database (`blobs.backend = "database"`): the `blob` table of the same SQLite or PostgreSQL.

Workers with separate data folders then share nothing but the database. A payload is read and written whole:
psycopg hands a `bytea` back in one piece, and bills are capped by `mail.max_attachment_bytes` (20 MiB by
default), traces and screenshots are a few MiB. Writing a blob that exists is a no-op (`INSERT … ON CONFLICT
DO NOTHING`), so two workers storing the same PDF at once store it once, and `put` writes without asking first.
`within(session)` writes in the caller's transaction: a bill's PDF is then committed with its invoice, in one
commit, and never without it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.blob_models import StoredBlob
from storage.blobs import check_digest
from storage.models import utcnow
from storage.secrets import KeyRing

TABLE = StoredBlob.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DatabaseBlobStore:
    """The `Blobs` protocol over the `blob` table."""

    engine: Engine
    connection: Connection | None = None
    """Set by `within`: writes go through this connection, in its transaction, which the caller commits."""

    def put(self, data: bytes, *, keys: KeyRing | None = None) -> str:
        """Store bytes (encrypted when `keys` is given) and return their sha256.

        No look first: the insert does nothing when the blob is there (one statement instead of two).
        """
        digest = hashlib.sha256(data).hexdigest()
        self.write_raw(digest, encrypted=keys is not None, payload=keys.encrypt_bytes(data) if keys else data)
        return digest

    def within(self, session: Session) -> DatabaseBlobStore:
        """The same store, writing in `session`'s transaction (committed or rolled back with it)."""
        return DatabaseBlobStore(self.engine, connection=session.connection())

    def write_raw(self, digest: str, *, encrypted: bool, payload: bytes) -> None:
        """Insert a payload under its name; a blob already there is left as it is."""
        check_digest(digest)
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        statement = insert(TABLE).values(sha256=digest, encrypted=encrypted, size=len(payload), data=payload,
                                         created_at=utcnow()).on_conflict_do_nothing(index_elements=["sha256",
                                                                                                     "encrypted"])
        if self.connection is not None:
            self.connection.execute(statement)
            return
        with self.engine.begin() as connection:
            connection.execute(statement)

    def read_raw(self, digest: str, *, encrypted: bool) -> bytes:
        """The stored payload; FileNotFoundError when there is none (as the file backend)."""
        check_digest(digest)
        with self.engine.connect() as connection:
            payload = connection.execute(select(TABLE.c.data).where(
                TABLE.c.sha256 == digest, TABLE.c.encrypted == encrypted)).scalar_one_or_none()
        if payload is None:
            raise FileNotFoundError(f"no blob {digest}{' (encrypted)' if encrypted else ''} in the database")
        return bytes(payload)

    def get(self, digest: str, *, keys: KeyRing | None = None) -> bytes:
        """The bytes of a blob; encrypted blobs need the key ring."""
        payload = self.read_raw(digest, encrypted=keys is not None)
        return keys.decrypt_bytes(payload) if keys is not None else payload

    def exists(self, digest: str, *, encrypted: bool = False) -> bool:
        """Whether a blob is stored."""
        check_digest(digest)
        with self.engine.connect() as connection:
            return connection.execute(select(TABLE.c.size).where(
                TABLE.c.sha256 == digest, TABLE.c.encrypted == encrypted)).first() is not None

    def delete(self, digest: str, *, encrypted: bool = False) -> bool:
        """Remove a blob (artifact retention); returns whether it existed."""
        check_digest(digest)
        with self.engine.begin() as connection:
            result = connection.execute(delete(TABLE).where(TABLE.c.sha256 == digest, TABLE.c.encrypted == encrypted))
        return result.rowcount > 0

    def names(self) -> Iterator[tuple[str, bool]]:
        """Every stored blob as (sha256, encrypted), in name order."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(TABLE.c.sha256, TABLE.c.encrypted).order_by(TABLE.c.sha256)).all()
        for digest, encrypted in rows:
            yield digest, bool(encrypted)
