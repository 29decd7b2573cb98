"""A content-addressed folder for PDFs, traces and screenshots under the data directory.

A blob's name is the sha256 of the bytes as given, so the same PDF is stored once and a name proves
the content. Sensitive blobs (screenshots and traces of a logged-in portal) are written encrypted with
the key ring; the name still hashes the clear bytes, so dedup works and nothing readable is on disk.
Writes go to a temporary file and are renamed into place: a crash never leaves half a blob.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from storage.secrets import KeyRing


@dataclass(frozen=True)
class BlobStore:
    """Blobs under `root/ab/cdef…`; encrypted ones carry the suffix `.enc`."""

    root: Path

    def _path(self, digest: str, *, encrypted: bool) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a sha256 hex digest: {digest!r}")
        return self.root / digest[:2] / (digest[2:] + (".enc" if encrypted else ""))

    def put(self, data: bytes, *, keys: KeyRing | None = None) -> str:
        """Store bytes (encrypted when `keys` is given) and return their sha256."""
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest, encrypted=keys is not None)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = keys.encrypt_bytes(data) if keys is not None else data
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        return digest

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
