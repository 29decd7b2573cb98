"""Replaying a recorded portal session (HAR) in order, with the network closed.

Playwright's own `route_from_har` answers each URL with one entry, chosen by matching headers. The
portal is stateful (the same `GET /ContaDigital` shows "Aderir" before the adhesion and the enrolled
state after it), so a faithful replay must serve a URL's recorded responses in the order they were
recorded. This router does that, ignores the host (a fixture recorded on any address replays anywhere),
aborts every request the fixture lacks, and remembers those requests so a test can say what was missing.
A recorded redirect of a navigation is replayed as a redirect, so `page.url` shows where the portal sent the
browser (a login page served at `/Home` would be a portal the recording never saw). A request fulfilled with
a 3xx is not intercepted again when the browser follows it, so the router redirects the navigation the way
Playwright's own HAR router does (the implementation's `_redirect_navigation_request`); a fetch's redirect,
which a page script never sees, is followed inside the router.
"""

from __future__ import annotations

import base64
import json
import zipfile
from collections import defaultdict, deque
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from playwright.async_api import BrowserContext, Request, Route

# Headers that describe the recorded transfer, not the response; Playwright computes its own.
_DROP_HEADERS = {"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive"}


def load_har(path: Path) -> dict:
    """A HAR document from a `.har` file or a `.har.zip` holding one `.har` member."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(".har")]
            if len(names) != 1:
                raise ValueError(f"{path} must hold exactly one .har file, not {names}")
            return json.loads(archive.read(names[0]))
    return json.loads(path.read_text(encoding="utf-8"))


def _location(response: dict) -> str | None:
    """A recorded response's Location header, if it has one."""
    return next((h["value"] for h in response.get("headers", []) if h["name"].lower() == "location"), None)


def _key(method: str, url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return method.upper(), parts.path + (f"?{parts.query}" if parts.query else "")


class HarReplay:
    """Serves a HAR's responses per (method, path) in recorded order; everything else is aborted."""

    def __init__(self, har: dict) -> None:
        self._queues: dict[tuple[str, str], deque[dict]] = defaultdict(deque)
        for entry in har["log"]["entries"]:
            request = entry["request"]
            self._queues[_key(request["method"], request["url"])].append(entry["response"])
        self.missing: list[str] = []
        self.served = 0

    @classmethod
    def from_file(cls, path: Path) -> HarReplay:
        """Load a fixture."""
        return cls(load_har(path))

    async def attach(self, context: BrowserContext) -> None:
        """Route every request of the context through the fixture."""
        await context.route("**/*", self._handle)

    async def _handle(self, route: Route) -> None:
        request = route.request
        key = _key(request.method, request.url)
        queue = self._queues.get(key)
        if not queue:
            self.missing.append(f"{key[0]} {key[1]}")
            await route.abort("internetdisconnected")
            return
        response = queue.popleft()
        # Playwright's HAR router redirects with this private call of the implementation object; without it
        # (a Playwright that renamed it) the redirect is followed here, and tests/flows/test_har_replay.py's
        # redirect test fails on page.url.
        redirect = getattr(getattr(route, "_impl_obj", None), "_redirect_navigation_request", None)
        if (redirect is not None and request.is_navigation_request()
                and (target := self._redirect_target(request, response)) is not None):
            await redirect(target)  # the browser asks for the target next: this handler serves it in turn
            self.served += 1
            return
        hops = 0
        while 300 <= response["status"] < 400 and hops < 10:
            location = _location(response)
            if location is None:
                break
            target = _key("GET", urljoin(request.url, location))
            follow = self._queues.get(target)
            if not follow:
                self.missing.append(f"{target[0]} {target[1]} (redirected from {key[1]})")
                await route.abort("internetdisconnected")
                return
            response, hops = follow.popleft(), hops + 1
        content = response.get("content", {})
        text = content.get("text", "")
        body = base64.b64decode(text) if content.get("encoding") == "base64" else text.encode("utf-8")
        headers = {h["name"]: h["value"] for h in response.get("headers", [])
                   if h["name"].lower() not in _DROP_HEADERS}
        self.served += 1
        await route.fulfill(status=response["status"], headers=headers, body=body)

    def _redirect_target(self, request: Request, response: dict) -> str | None:
        """Where a recorded 3xx sends a navigation, on the replay's own host.

        None when the fixture cannot answer there, or when the redirect keeps the method (a 307/308 of a
        POST): the router follows those itself.
        """
        status = response["status"]
        if not 300 <= status < 400 or (status in (307, 308) and request.method != "GET"):
            return None
        location = _location(response)
        if location is None:
            return None
        method, path = _key("GET", urljoin(request.url, location))
        return urljoin(request.url, path) if self._queues.get((method, path)) else None

    def describe_missing(self) -> str:
        """A message naming what the flow asked for that the fixture does not have."""
        if not self.missing:
            return "the fixture answered every request"
        return ("the flow requested what the HAR fixture does not hold (re-record it, see the README): "
                + "; ".join(self.missing))
