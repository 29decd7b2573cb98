"""The stand-in for Google reCAPTCHA v2 and for a 2Captcha-style solver service.

Tokens are issued by the server (by the "Não sou um robô" checkbox or by a solved solver task), expire after
``ttl`` seconds and are accepted once. In ``always-fail`` mode no token is ever issued and none is accepted,
like a challenge the bot cannot pass. The solver also reads image captchas (``method=base64``, see
simulator.portal.captcha_image) and records ``reportbad`` calls in the event log.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time

from simulator.portal.captcha_image import ImageCaptcha, misread
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
        self.images = ImageCaptcha(store)

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
    def _key_ok(self, key: str) -> bool:
        return bool(key) and (self.solver_key is None or secrets.compare_digest(key, self.solver_key))

    def solver_submit(self, *, key: str, method: str, googlekey: str = "", pageurl: str = "", body: str = "",
                      wrong_answers: int = 0) -> tuple[bool, str]:
        """``in.php``: (True, task id) or (False, 2Captcha error code).

        ``method=base64`` sends an image captcha in ``body``; the first ``wrong_answers`` such tasks (since the
        site scenario was set) are answered with a misreading, as a real solver sometimes does.
        """
        if not self._key_ok(key):
            return False, "ERROR_WRONG_USER_KEY"
        if method == "base64":
            return self._submit_image(body, wrong_answers)
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
        if not self._key_ok(key):
            return False, "ERROR_WRONG_USER_KEY"
        if action == "reportbad":
            return self._report_bad(task_id)
        if action != "get":
            return False, "ERROR_BAD_PARAMETERS"
        image = self._image_result(task_id)
        if image is not None:
            return image
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

    def _submit_image(self, body: str, wrong_answers: int) -> tuple[bool, str]:
        try:
            image = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return False, "ERROR_WRONG_FILE_EXTENSION"
        if not image:
            return False, "ERROR_ZERO_CAPTCHA_FILESIZE"
        answer = self.images.answer_of(image)
        if answer is not None and self.store.bump_counter("counter:site:solver_image_tasks") <= wrong_answers:
            answer = misread(answer)
        task_id = str(secrets.randbelow(9 * 10**10) + 10**10)
        with self.store.transaction() as db:
            db.execute("INSERT INTO solver_image_tasks (id, answer) VALUES (?, ?)", (task_id, answer))
        return True, task_id

    def _image_result(self, task_id: str) -> tuple[bool, str] | None:
        with self.store.transaction() as db:
            row = db.execute("SELECT polls, answer FROM solver_image_tasks WHERE id = ?", (task_id,)).fetchone()
            if row is None:
                return None
            db.execute("UPDATE solver_image_tasks SET polls = polls + 1 WHERE id = ?", (task_id,))
        if row["polls"] == 0:
            return False, "CAPCHA_NOT_READY"
        if row["answer"] is None:  # not an image this portal drew: a real solver's workers could not read it
            return False, "ERROR_CAPTCHA_UNSOLVABLE"
        return True, row["answer"]

    def _report_bad(self, task_id: str) -> tuple[bool, str]:
        with self.store.transaction() as db:
            found = db.execute("UPDATE solver_image_tasks SET reported = 1 WHERE id = ?", (task_id,)).rowcount
        if not found:
            return False, "ERROR_WRONG_CAPTCHA_ID"
        self.store.log_event("solver_reportbad", task_id=task_id)
        return True, "OK_REPORT_RECORDED"
