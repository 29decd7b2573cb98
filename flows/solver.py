"""A client for 2Captcha-style captcha solver services (`in.php` / `res.php`).

Used only when an operator configures a solver URL and key. Any failure becomes ChallengeRequired with
the service's error code, so the unit lands in `captcha_required` with a reason a person can act on.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx

from flows.errors import ChallengeRequired


@dataclass(frozen=True)
class TwoCaptchaSolver:
    """Submits a reCAPTCHA v2 task and polls for its token."""

    base_url: str
    api_key: str = field(repr=False)
    poll_interval_s: float = 5.0
    timeout_s: float = 180.0

    async def __call__(self, site_key: str, page_url: str) -> str:
        """Return a token for (site_key, page_url); ChallengeRequired when the service cannot solve it."""
        base = self.base_url.rstrip("/")
        try:
            async with httpx.AsyncClient(timeout=30.0) as client:
                submitted = await client.post(f"{base}/in.php", data={
                    "key": self.api_key, "method": "userrecaptcha", "googlekey": site_key,
                    "pageurl": page_url, "json": 1})
                task = _answer(submitted)
                deadline = time.monotonic() + self.timeout_s
                while time.monotonic() < deadline:
                    await asyncio.sleep(self.poll_interval_s)  # the service's documented polling
                    polled = await client.get(f"{base}/res.php", params={
                        "key": self.api_key, "action": "get", "id": task, "json": 1})
                    payload = polled.json()
                    if payload.get("status") == 1:
                        return str(payload["request"])
                    if payload.get("request") != "CAPCHA_NOT_READY":
                        raise ChallengeRequired(f"the captcha solver failed: {payload.get('request')}", step="login")
        except httpx.HTTPError as exc:
            raise ChallengeRequired(f"the captcha solver is unreachable: {type(exc).__name__}", step="login") from exc
        raise ChallengeRequired(f"the captcha solver gave no answer within {self.timeout_s:.0f} s", step="login")


def _answer(response: httpx.Response) -> str:
    payload = response.json()
    if payload.get("status") != 1:
        raise ChallengeRequired(f"the captcha solver refused the task: {payload.get('request')}", step="login")
    return str(payload["request"])
