"""The response bodies of a recording's fetch and XHR requests, kept beside the HAR.

Chromium drops the body of a fetch whose page navigates right after reading it (a single-page login
answers `{"redirect": ...}` and the page leaves at once), so Playwright's HAR holds that entry without
content and a replay of it cannot log in. While recording, fetch and XHR requests are fetched by
Playwright itself and fulfilled with what the server sent, so every body is known; `fill` then puts the
bodies the HAR lacks back into it, entry by entry, in the order they were requested.
"""

from __future__ import annotations

import base64
from collections import defaultdict, deque

from playwright.async_api import BrowserContext, Route

_CAPTURED = {"fetch", "xhr"}


class ResponseBodies:
    """Captures fetch/XHR bodies during a recording and fills them into the HAR that lacks them."""

    def __init__(self) -> None:
        self._bodies: dict[tuple[str, str], deque[bytes]] = defaultdict(deque)

    async def attach(self, context: BrowserContext) -> None:
        """Route the context's fetch and XHR requests through the capture (documents go to the network)."""
        await context.route("**/*", self._handle)

    async def _handle(self, route: Route) -> None:
        request = route.request
        if request.resource_type not in _CAPTURED:
            await route.fallback()
            return
        response = await route.fetch(max_redirects=0)
        body = await response.body()
        self._bodies[(request.method, request.url)].append(body)
        await route.fulfill(response=response, body=body)

    def fill(self, har: dict) -> int:
        """Put the captured bodies into the HAR entries that have none; how many were filled."""
        filled = 0
        queues = {key: deque(bodies) for key, bodies in self._bodies.items()}
        for entry in har["log"]["entries"]:
            queue = queues.get((entry["request"]["method"], entry["request"]["url"]))
            if not queue:
                continue
            body = queue.popleft()
            content = entry["response"].setdefault("content", {})
            if content.get("text") or not body:
                continue
            try:
                content["text"] = body.decode("utf-8")
                content.pop("encoding", None)
            except UnicodeDecodeError:
                content["text"], content["encoding"] = base64.b64encode(body).decode("ascii"), "base64"
            content["size"] = len(body)
            filled += 1
        return filled
