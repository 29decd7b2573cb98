"""The image-captcha variant of the login: distorted characters in a PNG drawn on the server.

Reference §0 and §2.1: "tipo de captcha muda de acordo com frequência de logins", ``#captchaImg`` with a
base64 PNG. Each login form that shows it gets a fresh challenge (new characters, a new image). A challenge
is answered once, right or wrong; a wrong answer re-renders the form with a new one. The fake 2Captcha
solver (``method=base64``) reads the answer of an image it is sent by the image's SHA-256, and answers
wrongly for the scenario's first ``solver_wrong_answers`` tasks.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import secrets
import time
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from simulator.portal.store import Store

ALPHABET = "ACEFHKMNPRTWXY34679"
"""No characters a person confuses (0/O, 1/I/L, 5/S, 8/B, 2/Z)."""
LENGTH = 5
SIZE = (180, 60)


@dataclass(frozen=True)
class Challenge:
    """One image shown on one login form."""

    id: str
    png: bytes

    @property
    def data_uri(self) -> str:
        """The image as the real portal embeds it: ``data:image/png;base64,…``."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode()


def draw(text: str, *, seed: int) -> bytes:
    """A PNG of `text`: each character rotated and shifted, noise lines and dots, slightly blurred."""
    rng = random.Random(seed)
    image = Image.new("RGB", SIZE, (235 + rng.randrange(20), 235 + rng.randrange(20), 230))
    font = ImageFont.load_default(size=34)
    x = 8
    for ch in text:
        glyph = Image.new("RGBA", (44, 52), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((6, 4), ch, font=font, fill=(rng.randrange(90), rng.randrange(90), 120))
        glyph = glyph.rotate(rng.uniform(-28, 28), resample=Image.Resampling.BICUBIC, expand=False)
        image.paste(glyph, (x, rng.randrange(0, 10)), glyph)
        x += 30 + rng.randrange(4)
    pen = ImageDraw.Draw(image)
    for _ in range(6):
        pen.line([(rng.randrange(SIZE[0]), rng.randrange(SIZE[1])) for _ in range(2)],
                 fill=(rng.randrange(160), rng.randrange(160), rng.randrange(160)), width=2)
    for _ in range(220):
        pen.point((rng.randrange(SIZE[0]), rng.randrange(SIZE[1])), fill=(rng.randrange(200),) * 3)
    out = io.BytesIO()
    image.filter(ImageFilter.SMOOTH).save(out, format="PNG")
    return out.getvalue()


def normalise(answer: str) -> str:
    """How the portal compares an answer: case and spaces do not matter."""
    return "".join(answer.split()).upper()


class ImageCaptcha:
    """Issue image challenges, check answers, and read them back for the fake solver."""

    def __init__(self, store: Store, *, ttl: float = 300.0) -> None:
        self.store = store
        self.ttl = ttl

    def issue(self, *, now: float | None = None) -> Challenge:
        """A new challenge (its answer kept in the store, never on the page)."""
        answer = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        png = draw(answer, seed=secrets.randbits(32))
        challenge = Challenge(secrets.token_urlsafe(16), png)
        with self.store.transaction() as db:
            db.execute("INSERT INTO captcha_images (id, answer, sha256, png, expires_at) VALUES (?, ?, ?, ?, ?)",
                       (challenge.id, answer, hashlib.sha256(png).hexdigest(), png,
                        (time.time() if now is None else now) + self.ttl))
        return challenge

    def png(self, challenge_id: str) -> bytes | None:
        """The image of a challenge (what ``/Login/CaptchaImagem`` serves)."""
        rows = self.store.query("SELECT png FROM captcha_images WHERE id = ?", (challenge_id,))
        return bytes(rows[0]["png"]) if rows else None

    def check(self, challenge_id: str, answer: str, *, now: float | None = None) -> bool:
        """Whether `answer` solves the challenge; the challenge is burnt either way (one try per image)."""
        if not challenge_id or not answer:
            return False
        with self.store.transaction() as db:
            row = db.execute("SELECT answer, used, expires_at FROM captcha_images WHERE id = ?",
                             (challenge_id,)).fetchone()
            if row is None:
                return False
            db.execute("UPDATE captcha_images SET used = 1 WHERE id = ?", (challenge_id,))
        fresh = row["expires_at"] > (time.time() if now is None else now)
        return fresh and not row["used"] and secrets.compare_digest(normalise(answer), row["answer"])

    def answer_of(self, image: bytes) -> str | None:
        """The answer of the challenge whose PNG is `image` (None when the simulator never drew it)."""
        rows = self.store.query("SELECT answer FROM captcha_images WHERE sha256 = ?",
                                (hashlib.sha256(image).hexdigest(),))
        return rows[0]["answer"] if rows else None

    def latest_answer(self) -> str | None:
        """The answer of the newest unanswered challenge (what a person at the browser would read)."""
        rows = self.store.query("SELECT answer FROM captcha_images WHERE used = 0 ORDER BY rowid DESC LIMIT 1")
        return rows[0]["answer"] if rows else None


def misread(answer: str) -> str:
    """A plausible wrong reading of `answer` (a solver's mistake): the last character swapped for another."""
    wrong = ALPHABET[(ALPHABET.index(answer[-1]) + 1) % len(ALPHABET)] if answer[-1] in ALPHABET else "X"
    return answer[:-1] + wrong
