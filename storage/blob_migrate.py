"""`faturas blobs migrate --to BACKEND`: copy every blob to another backend and verify each one's hash.

Payloads are copied as stored (an encrypted blob stays encrypted, under the same key ring), read back from the
target and compared; then the clear bytes' sha256 is checked against the blob's name (the keys decrypt the
encrypted ones). Nothing is deleted from the source: switch `blobs.backend` once the copy is verified, and
remove the old blobs when satisfied. Running it again copies only what is missing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from storage.blobs import Blobs
from storage.errors import BackupError, SecretKeyMissing
from storage.secrets import KeyRing


@dataclass(frozen=True)
class MigrationReport:
    """What a copy did: blobs copied now, found already there, and verified (all of them)."""

    copied: int
    present: int
    verified: int


def migrate_blobs(*, source: Blobs, target: Blobs, keys: KeyRing | None,
                  on_blob: Callable[[], None] | None = None) -> MigrationReport:
    """Copy and verify; BackupError names the first blob that does not match, SecretKeyMissing without keys."""
    copied = present = verified = 0
    for digest, encrypted in source.names():
        payload = source.read_raw(digest, encrypted=encrypted)
        if target.exists(digest, encrypted=encrypted):
            present += 1
        else:
            target.write_raw(digest, encrypted=encrypted, payload=payload)
            copied += 1
        back = target.read_raw(digest, encrypted=encrypted)
        if back != payload:
            raise BackupError(f"blob {digest} differs in the target after the copy")
        if encrypted:
            if keys is None:
                raise SecretKeyMissing("encrypted blobs (screenshots, traces) need the key file to be verified")
            back = keys.decrypt_bytes(back)
        if hashlib.sha256(back).hexdigest() != digest:
            raise BackupError(f"blob {digest} does not match its name: the source is damaged")
        verified += 1
        if on_blob is not None:
            on_blob()
    return MigrationReport(copied=copied, present=present, verified=verified)
