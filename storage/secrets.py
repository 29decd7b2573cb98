"""Encryption of secrets at rest (portal and PDF passwords, saved browser sessions, artifacts).

Keys are Fernet keys, newest first, from `FATURAS_SECRET_KEYS` (comma-separated) or from the key file
(one key per line). MultiFernet decrypts with any key and encrypts with the first, so rotation is:
add a new key in front, re-encrypt every stored secret, then drop the old key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.errors import ConfigurationError, SecretKeyInvalid, SecretKeyMissing

HOW_TO_CREATE = "create one with `faturas keys generate` or set FATURAS_SECRET_KEYS"


@dataclass(frozen=True)
class KeyRing:
    """The Fernet keys in force, newest first."""

    keys: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise SecretKeyMissing(f"no encryption key is configured: {HOW_TO_CREATE}")
        for index, key in enumerate(self.keys):
            try:
                Fernet(key.encode())
            except (ValueError, TypeError) as exc:
                raise ConfigurationError(
                    f"encryption key #{index + 1} is not a valid Fernet key (32 url-safe base64 bytes)"
                ) from exc

    @property
    def _fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(key.encode()) for key in self.keys])

    def encrypt(self, plaintext: str) -> str:
        """Encrypt text with the newest key; the token is ASCII."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt a token made with any key of the ring."""
        return self.decrypt_bytes(token.encode("ascii")).decode("utf-8")

    def encrypt_bytes(self, data: bytes) -> bytes:
        """Encrypt binary data (browser sessions, traces, screenshots)."""
        return self._fernet.encrypt(data)

    def decrypt_bytes(self, token: bytes) -> bytes:
        """Decrypt binary data made with any key of the ring."""
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise SecretKeyInvalid(
                "a stored secret cannot be decrypted with the configured keys "
                "(was the key file replaced instead of rotated?)"
            ) from exc

    def fingerprints(self, purpose: str, material: str) -> tuple[str, ...]:
        """HMAC-SHA256 of `material` under a subkey of each key for `purpose`, newest key first (hex).

        A keyed digest, not a hash: it names a secret (a login and its password) without letting anyone
        who reads the database test guesses against it. The subkey is derived with HKDF, never the Fernet
        key itself; one fingerprint per key so a rotation still finds what was stored under an older key.
        """
        out = []
        for key in self.keys:
            subkey = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                          info=f"faturas:{purpose}".encode()).derive(base64.urlsafe_b64decode(key.encode()))
            out.append(hmac.new(subkey, material.encode("utf-8"), hashlib.sha256).hexdigest())
        return tuple(out)

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the newest key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise SecretKeyInvalid("a stored secret cannot be decrypted during rotation") from exc


def new_key() -> str:
    """A fresh Fernet key."""
    return Fernet.generate_key().decode("ascii")


def read_key_file(path: Path) -> tuple[str, ...]:
    """Keys from a key file, newest first; blank lines and # comments are ignored."""
    lines = path.read_text(encoding="ascii").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))


def write_key_file(path: Path, keys: tuple[str, ...]) -> None:
    """Write the keys (newest first) to a file only the owner can read, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write("# faturas encryption keys, newest first. Keep a backup: without it secrets are lost.\n")
        handle.write("\n".join(keys) + "\n")
    os.replace(tmp, path)


def load_key_ring(*, env_keys: str | None, key_file: Path) -> KeyRing:
    """The keys from the environment when set, else from the key file; SecretKeyMissing when neither."""
    if env_keys:
        return KeyRing(tuple(k.strip() for k in env_keys.split(",") if k.strip()))
    if key_file.exists():
        return KeyRing(read_key_file(key_file))
    raise SecretKeyMissing(f"no encryption key found at {key_file}: {HOW_TO_CREATE}")
