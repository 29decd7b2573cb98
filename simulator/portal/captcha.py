"""The stand-in for Google reCAPTCHA v2 and for a 2Captcha-style solver service.

Tokens are issued by the server (by the "Não sou um robô" checkbox or by a solved solver task), expire after
``ttl`` seconds and are accepted once. In ``always-fail`` mode no token is ever issued and none is accepted,
like a challenge the bot cannot pass.
"""

from __future__ import annotations

import secrets
import time

from simulator.portal.store import Store

# The public site key the real login page carries (reference notes §0); the simulator checks it as 2Captcha does.
SITE_KEY = "6Lel5yQTAAAAAL3DDXn2lm6J31ke4awM587E001a"


class Captcha:
    """Issue and verify challenge tokens; run solver tasks."""

    def __init__(self, store: Store, *, ttl: float = 120.0, solver_key: str | None = None,
                 site_key: str = SITE_KEY) -> None:
        self.store = store
        self.ttl = ttl
        self.solver_key = solver_key
        self.site_key = site_key

    def issue(self, source: str, *, now: float | None = None) -> str:
        """A fresh single-use token (source: ``checkbox`` or ``solver``)."""
        token = "03A" + secrets.token_urlsafe(48)
        expires = (time.time() if now is None else now) + self.ttl
        with self.store.transaction() as db:
            db.execute("INSERT INTO captcha_tokens (token, expires_at, source) VALUES (?, ?, ?)",
                       (token, expires, source))
        return token

    def verify(self, token: str | None, mode: str, *, now: float | None = None) -> bool:
        """Whether a token passes (and burn it): known, unused, unexpired, and the mode is not always-fail."""
        if mode == "off":
            return True
        if not token:
            return False
        with self.store.transaction() as db:
            row = db.execute("SELECT expires_at, used FROM captcha_tokens WHERE token = ?", (token,)).fetchone()
            if row is None:
                return False
            db.execute("UPDATE captcha_tokens SET used = 1 WHERE token = ?", (token,))
        fresh = row["expires_at"] > (time.time() if now is None else now)
        return mode != "always-fail" and fresh and not row["used"]

    # -- 2Captcha-style solver ------------------------------------------------------------------------------
    def solver_submit(self, *, key: str, method: str, googlekey: str, pageurl: str) -> tuple[bool, str]:
        """``in.php``: (True, task id) or (False, 2Captcha error code)."""
        if not key or (self.solver_key is not None and not secrets.compare_digest(key, self.solver_key)):
            return False, "ERROR_WRONG_USER_KEY"
        if method != "userrecaptcha":
            return False, "ERROR_BAD_PARAMETERS"
        if googlekey != self.site_key:
            return False, "ERROR_GOOGLEKEY"
        if not pageurl:
            return False, "ERROR_PAGEURL"
        task_id = str(secrets.randbelow(9 * 10**10) + 10**10)
        with self.store.transaction() as db:
            db.execute("INSERT INTO solver_tasks (id) VALUES (?)", (task_id,))
        return True, task_id

    def solver_result(self, *, key: str, action: str, task_id: str, mode: str) -> tuple[bool, str]:
        """``res.php?action=get``: not ready on the first poll, then a token (or unsolvable in always-fail)."""
        if not key or (self.solver_key is not None and not secrets.compare_digest(key, self.solver_key)):
            return False, "ERROR_WRONG_USER_KEY"
        if action != "get":
            return False, "ERROR_BAD_PARAMETERS"
        with self.store.transaction() as db:
            row = db.execute("SELECT polls, token FROM solver_tasks WHERE id = ?", (task_id,)).fetchone()
            if row is None:
                return False, "ERROR_WRONG_CAPTCHA_ID"
            db.execute("UPDATE solver_tasks SET polls = polls + 1 WHERE id = ?", (task_id,))
        if row["polls"] == 0:
            return False, "CAPCHA_NOT_READY"
        if mode == "always-fail":
            return False, "ERROR_CAPTCHA_UNSOLVABLE"
        token = row["token"]
        if token is None:
            token = self.issue("solver")
            with self.store.transaction() as db:
                db.execute("UPDATE solver_tasks SET token = ? WHERE id = ?", (token, task_id))
        return True, token
