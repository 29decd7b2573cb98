"""An OAuth 2 authorization server on loopback for tests: token, device authorization and introspection endpoints.

Just enough of RFC 6749 (refresh grant; authorization code with PKCE, approved at once on GET /authorize),
RFC 8628 (device grant, approved on the second poll) and RFC 7662
(introspection, the way Dovecot's `oauth2` passdb calls it with `introspection_mode = post`). Access tokens
expire after `expires_in` seconds here too, so a client that does not refresh in time is refused by Dovecot.
Switches a test flips: `revoke(refresh)`, `expire_access_tokens()`, `introspection_down`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.servers.dovecot import free_port

CLIENT_ID = "faturas-test-client"


@dataclass
class OAuthServer:
    """Issues tokens for `user`; `refresh_tokens` maps each valid refresh token to its user."""

    expires_in: int = 3600
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    access_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)
    introspections: int = 0
    introspection_down: bool = False
    device_polls: int = 0
    device_user: str = "bills"
    token_requests: int = 0
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    expire_after_introspections: int | None = None
    rotate_refresh_tokens: bool = False
    """Each refresh grant issues a new refresh token and revokes the one it was given (strict rotation)."""
    """After this many successful introspections, every access token issued so far is expired (once)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    _httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def grant(self, user: str) -> str:
        """A new refresh token for `user` (what an earlier authorization would have left)."""
        token = "rt-" + secrets.token_urlsafe(12)
        self.refresh_tokens[token] = user
        return token

    def reset(self) -> None:
        """Forget every token and switch (between tests)."""
        self.refresh_tokens.clear()
        self.access_tokens.clear()
        self.issued.clear()
        self.expires_in, self.introspection_down, self.expire_after_introspections = 3600, False, None
        self.rotate_refresh_tokens = False
        self.introspections = self.device_polls = self.token_requests = 0

    def revoke(self, refresh_token: str) -> None:
        self.refresh_tokens.pop(refresh_token, None)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (the provider ended them early)."""
        with self.lock:
            self.access_tokens = {t: (u, 0.0) for t, (u, _) in self.access_tokens.items()}

    def valid(self, token: str) -> str | None:
        """The user of a live access token, else None."""
        with self.lock:
            user, until = self.access_tokens.get(token, ("", 0.0))
        return user if user and time.time() < until else None

    def _issue(self, user: str, refresh: str | None) -> dict:
        token = "at-" + secrets.token_urlsafe(12)
        with self.lock:
            self.access_tokens[token] = (user, time.time() + self.expires_in)
            self.issued.append(token)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
        if refresh:
            body["refresh_token"] = refresh
        return body

    def authorize(self, query: dict[str, str]) -> str:
        """GET /authorize approves at once: the redirect back to the client, with a code bound to its PKCE."""
        code = "ac-" + secrets.token_urlsafe(8)
        self.codes[code] = (query.get("code_challenge", ""), query.get("redirect_uri", ""))
        return f"{query['redirect_uri']}?code={code}&state={query.get('state', '')}"

    def _exchange(self, form: dict[str, str]) -> tuple[int, dict]:
        challenge, redirect = self.codes.pop(form.get("code", ""), ("", ""))
        digest = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
        if not challenge or digest.rstrip(b"=").decode() != challenge or form.get("redirect_uri") != redirect:
            return 400, {"error": "invalid_grant"}
        return 200, self._issue(self.device_user, self.grant(self.device_user))

    def handle(self, path: str, form: dict[str, str]) -> tuple[int, dict]:
        if path == "/device":
            return 200, {"device_code": "dc-1", "user_code": "WDJB-MJHT", "verification_uri": f"{self.url}/activate",
                         "expires_in": 60, "interval": 0}
        if path == "/token":
            self.token_requests += 1
            grant = form.get("grant_type")
            if grant == "refresh_token":
                user = self.refresh_tokens.get(form.get("refresh_token", ""))
                if user is None:
                    return 400, {"error": "invalid_grant", "error_description": "token revoked"}
                if self.rotate_refresh_tokens:
                    self.revoke(form.get("refresh_token", ""))
                    return 200, self._issue(user, self.grant(user))
                return 200, self._issue(user, None)
            if grant == "authorization_code":
                return self._exchange(form)
            if grant == "urn:ietf:params:oauth:grant-type:device_code" and form.get("device_code") == "dc-1":
                self.device_polls += 1
                if self.device_polls < 2:
                    return 400, {"error": "authorization_pending"}
                return 200, self._issue(self.device_user, self.grant(self.device_user))
            return 400, {"error": "unsupported_grant_type"}
        if path == "/introspect":
            self.introspections += 1
            if self.introspection_down:
                return 503, {"error": "temporarily_unavailable"}
            user = self.valid(form.get("token", ""))
            if user and self.expire_after_introspections is not None:
                self.expire_after_introspections -= 1
                if self.expire_after_introspections <= 0:
                    self.expire_after_introspections = None
                    self.expire_access_tokens()  # the token just checked still logs in: this session is open
            return 200, ({"active": True, "username": user} if user else {"active": False})
        return 404, {"error": "not_found"}

    def start(self) -> OAuthServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                parts = urlsplit(self.path)
                if parts.path != "/authorize":
                    self.send_error(404)
                    return
                self.send_response(302)
                self.send_header("Location", server.authorize({k: v[0] for k, v in parse_qs(parts.query).items()}))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                status, body = server.handle(self.path.split("?")[0], form)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:  # quiet
                return

        self._httpd = ThreadingHTTPServer((self.host, self.port), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
