"""Clients for 2Captcha-style captcha solver services (`in.php` / `res.php`).

Used only when an operator configures a solver URL and key. `TwoCaptchaSolver` gets reCAPTCHA v2 tokens,
`TwoCaptchaImageSolver` reads image captchas (`method=base64`) and reports the answers the portal refused
(`action=reportbad`, so the service refunds them and learns). Any failure becomes ChallengeRequired with the
service's error code, so the unit lands in `captcha_required` with a reason a person can act on.
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass, field

import httpx
import structlog

from flows.errors import ChallengeRequired

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class _TwoCaptchaClient:
    base_url: str
    api_key: str = field(repr=False)
    poll_interval_s: float = 5.0
    timeout_s: float = 180.0

    async def _solve(self, task: dict[str, str | int]) -> tuple[str, str]:
        """Submit `task` to in.php and poll res.php: (task id, answer)."""
        base = self.base_url.rstrip("/")
        try:
            async with httpx.AsyncClient(timeout=30.0) as client:
                submitted = await client.post(f"{base}/in.php", data={"key": self.api_key, "json": 1, **task})
                task_id = _answer(submitted)
                deadline = time.monotonic() + self.timeout_s
                while time.monotonic() < deadline:
                    await asyncio.sleep(self.poll_interval_s)  # the service's documented polling
                    polled = await client.get(f"{base}/res.php", params={
                        "key": self.api_key, "action": "get", "id": task_id, "json": 1})
                    payload = polled.json()
                    if payload.get("status") == 1:
                        return task_id, str(payload["request"])
                    if payload.get("request") != "CAPCHA_NOT_READY":
                        raise ChallengeRequired(f"the captcha solver failed: {payload.get('request')}", step="login")
        except httpx.HTTPError as exc:
            raise ChallengeRequired(f"the captcha solver is unreachable: {type(exc).__name__}", step="login") from exc
        raise ChallengeRequired(f"the captcha solver gave no answer within {self.timeout_s:.0f} s", step="login")


@dataclass(frozen=True)
class TwoCaptchaSolver(_TwoCaptchaClient):
    """Submits a reCAPTCHA v2 task and polls for its token."""

    async def __call__(self, site_key: str, page_url: str) -> str:
        """Return a token for (site_key, page_url); ChallengeRequired when the service cannot solve it."""
        _, token = await self._solve({"method": "userrecaptcha", "googlekey": site_key, "pageurl": page_url})
        return token


@dataclass(frozen=True)
class TwoCaptchaImageSolver(_TwoCaptchaClient):
    """Sends an image captcha as base64 and polls for the characters; reports the answers the portal refused."""

    _tasks: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    """Answer → task id of this client's recent answers, so a refusal can be reported against its task."""

    async def __call__(self, image: bytes) -> str:
        """The characters `image` shows; ChallengeRequired when the service cannot read it."""
        task_id, text = await self._solve({"method": "base64", "body": base64.b64encode(image).decode()})
        self._tasks[text] = task_id
        return text

    async def report_bad(self, answer: str) -> None:
        """Tell the service the portal refused `answer` (best effort: a failed report changes nothing here)."""
        task_id = self._tasks.pop(answer, None)
        if task_id is None:
            return
        try:
            async with httpx.AsyncClient(timeout=30.0) as client:
                reply = await client.get(f"{self.base_url.rstrip('/')}/res.php", params={
                    "key": self.api_key, "action": "reportbad", "id": task_id, "json": 1})
            log.info("captcha_answer_reported", task_id=task_id, reply=reply.json().get("request"))
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("captcha_report_failed", task_id=task_id, error=type(exc).__name__)


def _answer(response: httpx.Response) -> str:
    payload = response.json()
    if payload.get("status") != 1:
        raise ChallengeRequired(f"the captcha solver refused the task: {payload.get('request')}", step="login")
    return str(payload["request"])
