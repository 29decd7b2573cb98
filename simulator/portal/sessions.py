"""Portal sessions: a signed, HttpOnly cookie naming a row of the server-side session table.

The cookie carries ``<session id>.<HMAC-SHA256 of the id>``; a forged or altered cookie is simply no session.
Expiry is decided on the server (``expires_at``), so an admin can end a session and a scenario can expire it
mid-flow.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from simulator.portal.store import Store

COOKIE_NAME = "agv_session"


@dataclass(frozen=True)
class Session:
    """One logged-in browser."""

    id: str
    customer_id: int
    installation: str | None
    expires_at: float
    requests: int
    modal_dismissed: bool


class Sessions:
    """Create, read, touch and end sessions stored in the simulator's store."""

    def __init__(self, store: Store, secret: bytes, ttl_seconds: float) -> None:
        self.store = store
        self._secret = secret
        self.ttl = ttl_seconds

    def sign(self, session_id: str) -> str:
        """The cookie value for a session id."""
        mac = hmac.new(self._secret, session_id.encode(), hashlib.sha256).hexdigest()
        return f"{session_id}.{mac}"

    def unsign(self, cookie: str | None) -> str | None:
        """The session id inside a cookie value, or None when the signature does not match."""
        if not cookie or "." not in cookie:
            return None
        session_id, mac = cookie.rsplit(".", 1)
        expected = hmac.new(self._secret, session_id.encode(), hashlib.sha256).hexdigest()
        return session_id if hmac.compare_digest(mac, expected) else None

    def create(self, customer_id: int, installation: str | None) -> Session:
        """Start a session for a login, with its first installation selected."""
        session_id = secrets.token_urlsafe(24)
        with self.store.transaction() as db:
            db.execute("INSERT INTO sessions (id, customer_id, installation, expires_at) VALUES (?, ?, ?, ?)",
                       (session_id, customer_id, installation, time.time() + self.ttl))
        return self.get(session_id)  # type: ignore[return-value]

    def get(self, session_id: str | None, *, now: float | None = None) -> Session | None:
        """A live session, or None when it is unknown or expired (an expired row is deleted)."""
        if session_id is None:
            return None
        rows = self.store.query("SELECT * FROM sessions WHERE id = ?", (session_id,))
        if not rows:
            return None
        r = rows[0]
        if r["expires_at"] <= (time.time() if now is None else now):
            self.end(session_id)
            return None
        return Session(r["id"], r["customer_id"], r["installation"], r["expires_at"], r["requests"],
                       bool(r["modal_dismissed"]))

    def touch(self, session_id: str) -> int:
        """Count one request and slide the expiry forward; returns the request count."""
        with self.store.transaction() as db:
            db.execute("UPDATE sessions SET requests = requests + 1, expires_at = ? WHERE id = ?",
                       (time.time() + self.ttl, session_id))
            return db.execute("SELECT requests FROM sessions WHERE id = ?", (session_id,)).fetchone()["requests"]

    def select_installation(self, session_id: str, number: str) -> None:
        """Remember the installation the user switched to."""
        with self.store.transaction() as db:
            db.execute("UPDATE sessions SET installation = ? WHERE id = ?", (number, session_id))

    def dismiss_modal(self, session_id: str) -> None:
        """The post-login modal was closed: do not show it again in this session."""
        with self.store.transaction() as db:
            db.execute("UPDATE sessions SET modal_dismissed = 1 WHERE id = ?", (session_id,))

    def end(self, session_id: str) -> None:
        """Log out (or expire) a session."""
        with self.store.transaction() as db:
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
