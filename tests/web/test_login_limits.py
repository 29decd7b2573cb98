"""The login rate limit under attack (issue 14, item 6): atomic, per account, gentle per address."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.web.conftest import PASSWORD, csrf_of


def _attempt(web, email: str, password: str) -> int:
    client = web.client()
    return client.post("/entrar", data={"email": email, "password": password,
                                        "csrf_token": csrf_of(client.get("/entrar"))}).status_code


def test_concurrent_wrong_guesses_get_no_more_checks_than_the_limit(web):
    web.user("ana@solar.example.com")
    limit = web.app.settings.web_login_max_attempts
    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(lambda _: _attempt(web, "ana@solar.example.com", "errada-123456"), range(24)))
    # At most `limit` reach the password check. It may be none: the k-th attempt to commit its row sees at least
    # k, so when every thread commits before any counts (a loaded machine), all of them are refused. That fails
    # closed. A sequential attacker does get the checks (the next test).
    assert codes.count(401) <= limit
    assert codes.count(429) == len(codes) - codes.count(401)
    assert _attempt(web, "ana@solar.example.com", PASSWORD) == 429  # still locked for this address


def test_one_persons_failures_do_not_lock_out_a_colleague_at_the_same_address(web):
    web.user("ana@solar.example.com")
    web.user("bia@solar.example.com")
    for _ in range(web.app.settings.web_login_max_attempts):
        assert _attempt(web, "ana@solar.example.com", "errada-123456") == 401
    assert _attempt(web, "ana@solar.example.com", PASSWORD) == 429
    assert _attempt(web, "bia@solar.example.com", PASSWORD) == 303  # same address, another account


def test_a_successful_login_does_not_count_against_the_address(web):
    web.user("ana@solar.example.com")
    for _ in range(web.app.settings.web_login_max_attempts * 2):
        assert _attempt(web, "ana@solar.example.com", PASSWORD) == 303


def _serve(app, **options):
    import threading
    import time

    import uvicorn

    from simulator.portal.server import free_port

    port = free_port("127.0.0.1")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                           ws="none", access_log=False, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline
        time.sleep(0.01)  # waiting for a thread-start flag
    return server, thread, f"http://127.0.0.1:{port}"


def test_forwarded_headers_are_ignored_unless_the_proxy_is_trusted(web):
    import httpx

    from web.app import create_app
    from web.server import proxy_options

    web.user("ana@solar.example.com")
    limit = web.app.settings.web_login_max_attempts
    assert proxy_options(web.app.settings.web_trusted_proxies) == {"proxy_headers": False}  # the default
    server, thread, url = _serve(create_app(web.app), **proxy_options(web.app.settings.web_trusted_proxies))
    try:
        codes = []
        for n in range(limit + 1):
            with httpx.Client(base_url=url, timeout=30) as client:
                spoofed = {"X-Forwarded-For": f"203.0.113.{n + 1}"}  # a new "address" every time
                token = csrf_of(client.get("/entrar", headers=spoofed))
                codes.append(client.post("/entrar", headers=spoofed, data={
                    "email": "ana@solar.example.com", "password": "errada-123456", "csrf_token": token}).status_code)
        assert codes == [401] * limit + [429]  # counted against the real peer address
    finally:
        server.should_exit = True
        thread.join(10)


def test_trusted_proxies_are_read_from_the_environment_and_checked(tmp_path):
    import pytest

    from config.settings import load_settings
    from storage.errors import ConfigurationError
    from web.server import proxy_options

    base = {"HOME": str(tmp_path), "FATURAS_DATA_DIR": str(tmp_path / "data")}
    settings = load_settings({**base, "FATURAS_WEB_TRUSTED_PROXIES": "10.0.0.5, 192.168.0.0/24"})
    assert settings.web_trusted_proxies == ("10.0.0.5", "192.168.0.0/24")
    assert proxy_options(settings.web_trusted_proxies) == {"proxy_headers": True,
                                                           "forwarded_allow_ips": "10.0.0.5,192.168.0.0/24"}
    with pytest.raises(ConfigurationError, match="TRUSTED_PROXIES"):
        load_settings({**base, "FATURAS_WEB_TRUSTED_PROXIES": "*"})
