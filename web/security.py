"""Passwords (argon2id), random tokens, the cookie-signing secret and CSRF tokens.

CSRF: every form carries `hmac(secret, "csrf:" + anchor)`, where the anchor is the session token once
logged in, or a random pre-login cookie on the login form (double submit, signed). The secret lives in a
file in the data folder, generated on first start, never a constant in the code.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# A hash to verify against when the e-mail is unknown, so timing does not tell which e-mails exist.
_DUMMY_HASH = _hasher.hash("not a real password")

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; an unknown user (None) still costs one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str = "") -> str:
    """A random URL-safe token (256 bits)."""
    return prefix + secrets.token_urlsafe(32)


def load_or_create_secret(path: Path) -> bytes:
    """The signing secret from `path`, created (mode 600) with 32 random bytes when absent."""
    if path.exists():
        value = path.read_text(encoding="ascii").strip()
        if value:
            return value.encode("ascii")
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value.encode("ascii")


def csrf_token(secret: bytes, anchor: str) -> str:
    """The CSRF token bound to a session (or pre-login) anchor."""
    return hmac.new(secret, f"csrf:{anchor}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: bytes, anchor: str | None, token: str | None) -> bool:
    """Whether a submitted CSRF token matches the anchor, in constant time."""
    if not anchor or not token:
        return False
    return hmac.compare_digest(csrf_token(secret, anchor), token)
