"""Content-addressed blobs (bill PDFs, traces, screenshots): a folder under the data directory, or the database.

`blobs.backend = "file"` (default) keeps them under `<data_dir>/blobs`; workers on several machines then
share that folder. `"database"` keeps them in the `blob` table of the same SQLite or PostgreSQL database, so
workers with separate data folders share nothing but the database. Both have the same methods (`Blobs`).

A blob's name is the sha256 of the bytes as given, so the same PDF is stored once and a name proves
the content. Sensitive blobs (screenshots and traces of a logged-in portal) are written encrypted with
the key ring; the name still hashes the clear bytes, so dedup works and nothing readable is on disk.
Writes go to a temporary file and are renamed into place: a crash never leaves half a blob.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from storage.secrets import KeyRing

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class Blobs(Protocol):
    """What every blob backend does. Missing blobs raise FileNotFoundError, whatever the backend."""

    def put(self, data: bytes, *, keys: KeyRing | None = None) -> str: ...  # noqa: D102

    def get(self, digest: str, *, keys: KeyRing | None = None) -> bytes: ...  # noqa: D102

    def exists(self, digest: str, *, encrypted: bool = False) -> bool: ...  # noqa: D102

    def delete(self, digest: str, *, encrypted: bool = False) -> bool: ...  # noqa: D102

    def names(self) -> Iterator[tuple[str, bool]]:
        """Every stored blob as (sha256, encrypted)."""
        ...

    def read_raw(self, digest: str, *, encrypted: bool) -> bytes:
        """The stored payload as it is (still encrypted for an encrypted blob), for copying between backends."""
        ...

    def write_raw(self, digest: str, *, encrypted: bool, payload: bytes) -> None:
        """Store a payload read from another backend under its name (no-op when present)."""
        ...

    def within(self, session: Session) -> Blobs:
        """The store, its writes joining `session`'s transaction where the backend lives in that database."""
        ...


def put_content(store: Blobs, data: bytes, keys: KeyRing | None) -> str:
    """`put` for any backend: name the bytes, skip a blob already stored, else write it (encrypted with `keys`)."""
    digest = hashlib.sha256(data).hexdigest()
    if not store.exists(digest, encrypted=keys is not None):
        store.write_raw(digest, encrypted=keys is not None,
                        payload=keys.encrypt_bytes(data) if keys is not None else data)
    return digest


def check_digest(digest: str) -> None:
    """ValueError unless `digest` is a sha256 hex digest (it becomes a path or a key)."""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"not a sha256 hex digest: {digest!r}")


@dataclass(frozen=True)
class BlobStore:
    """Blobs under `root/ab/cdef…`; encrypted ones carry the suffix `.enc`."""

    root: Path

    def _path(self, digest: str, *, encrypted: bool) -> Path:
        check_digest(digest)
        return self.root / digest[:2] / (digest[2:] + (".enc" if encrypted else ""))

    def put(self, data: bytes, *, keys: KeyRing | None = None) -> str:
        """Store bytes (encrypted when `keys` is given) and return their sha256."""
        return put_content(self, data, keys)

    def within(self, session: Session) -> BlobStore:  # noqa: ARG002 - files are not in the database
        """Itself: a file is written at once, whatever the transaction does (an orphan is harmless)."""
        return self

    def write_raw(self, digest: str, *, encrypted: bool, payload: bytes) -> None:
        """Write a payload under its name, atomically (temporary file, fsync, rename); no-op when present."""
        path = self._path(digest, encrypted=encrypted)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def read_raw(self, digest: str, *, encrypted: bool) -> bytes:
        """The file's bytes as stored."""
        return self._path(digest, encrypted=encrypted).read_bytes()

    def names(self) -> Iterator[tuple[str, bool]]:
        """Every blob file under the root (temporary files of unfinished writes are skipped)."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/*")):
            if path.name.startswith("."):
                continue
            encrypted = path.suffix == ".enc"
            digest = path.parent.name + (path.name[:-4] if encrypted else path.name)
            yield digest, encrypted

    def get(self, digest: str, *, keys: KeyRing | None = None) -> bytes:
        """The bytes of a blob; encrypted blobs need the key ring."""
        if keys is not None:
            return keys.decrypt_bytes(self._path(digest, encrypted=True).read_bytes())
        return self._path(digest, encrypted=False).read_bytes()

    def exists(self, digest: str, *, encrypted: bool = False) -> bool:
        """Whether a blob is stored."""
        return self._path(digest, encrypted=encrypted).exists()

    def delete(self, digest: str, *, encrypted: bool = False) -> bool:
        """Remove a blob (artifact retention); returns whether it existed."""
        path = self._path(digest, encrypted=encrypted)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True
