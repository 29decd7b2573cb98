"""A small HTTP endpoint beside `faturas run` (`--metrics-port`): `/healthz`, `/readyz` and `/metrics`.

The standard library's threading server in a daemon thread: the service has no web framework of its own,
and these three answers need none. `faturas serve` answers the same paths from the dashboard.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import structlog

from config.context import AppContext
from service.health import ReadinessProbe
from service.metrics import CONTENT_TYPE, metrics_registry, render_metrics

log = structlog.get_logger(__name__)


def health_payload(probe: ReadinessProbe) -> tuple[int, dict]:
    """The /readyz status code and body: 200 when every check passed, else 503."""
    checks = probe()
    ready = all(c.ok for c in checks)
    return (200 if ready else 503), {"status": "ready" if ready else "not_ready",
                                     "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks]}


class HealthServer:
    """Serves the three paths on `host:port` until `close()`; `port=0` picks a free port (see `.port`)."""

    def __init__(self, app: AppContext, *, host: str, port: int, stale_after_s: float) -> None:
        probe = ReadinessProbe(app)
        registry = metrics_registry(app.raw_engine, stale_after_s=stale_after_s)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                if self.path == "/healthz":
                    self._send(200, "application/json", b'{"status": "ok"}')
                elif self.path == "/readyz":
                    code, body = health_payload(probe)
                    self._send(code, "application/json", json.dumps(body).encode())
                elif self.path == "/metrics":
                    self._send(200, CONTENT_TYPE, render_metrics(registry))
                else:
                    self._send(404, "application/json", b'{"status": "not_found"}')

            def _send(self, code: int, content_type: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's signature
                return  # probes every few seconds would flood the log

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="health-http", daemon=True)
        self._thread.start()
        log.info("health_server_started", host=host, port=self.port)

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
