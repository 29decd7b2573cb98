"""The installed-app flow (RFC 8252): the browser signs in, the provider redirects to a loopback port, PKCE.

Google does not grant the Gmail scope through its device flow, so `faturas mail accounts authorize NAME
--browser` uses this one: a one-shot HTTP listener on 127.0.0.1, an authorization URL with a PKCE S256
challenge and a state, then the code is exchanged (Authlib) and the tokens stored like the device flow's.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

from authlib.integrations.base_client.errors import OAuthError

from processor.config import OAuthSettings
from processor.oauth import TokenState, endpoints, session_for, store_new_grant
from storage.errors import ConfigurationError, FaturasError

_AUTHORIZE = {"google": "https://accounts.google.com/o/oauth2/v2/auth",
              "microsoft": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize"}
_DONE_PAGE = "<!doctype html><meta charset=utf-8><p>faturas: authorization received; you can close this tab.</p>"


def authorize_url(oauth: OAuthSettings) -> str:
    """The provider's authorization endpoint, the configured one first."""
    url = oauth.authorize_url or _AUTHORIZE.get(oauth.provider, "").format(tenant=oauth.tenant)
    if not url:
        raise ConfigurationError("this OAuth provider needs authorize_url for `authorize --browser`")
    return url


def _listener() -> tuple[HTTPServer, dict[str, str]]:
    received: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            received.update({k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()})
            body = _DONE_PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    return HTTPServer(("127.0.0.1", 0), Handler), received


def authorize_in_browser(oauth: OAuthSettings, *, show: Callable[[str], None], wait_s: float = 300.0,
                         timeout: float = 30.0) -> TokenState:
    """Show the authorization URL, wait for the redirect to the loopback listener, exchange the code, store."""
    server, received = _listener()
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/"
    token_url, _, scope = endpoints(oauth)
    session = session_for(oauth, timeout, scope=scope, redirect_uri=redirect_uri, code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    url, state = session.create_authorization_url(authorize_url(oauth), code_verifier=verifier,
                                                  access_type="offline", prompt="consent")
    waiting = threading.Thread(target=server.handle_request, daemon=True)
    server.timeout = wait_s
    waiting.start()
    try:
        show(url)
        waiting.join(wait_s + 1)
    finally:
        server.server_close()
    if "error" in received:
        raise FaturasError(f"authorization refused: {received['error']}")
    if not received.get("code"):
        raise FaturasError("no authorization arrived in time; run the command again")
    if received.get("state") != state:
        raise FaturasError("the redirect's state does not match this request (ignored)")
    try:
        token = session.fetch_token(token_url, code=received["code"], code_verifier=verifier,
                                    redirect_uri=redirect_uri)
    except OAuthError as exc:
        raise FaturasError(f"authorization failed: {exc.error}") from exc
    return store_new_grant(oauth, token)
