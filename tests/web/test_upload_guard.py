"""Uploads are refused from their headers (issue 14, item 7), and pages carry a Content-Security-Policy."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlparse

from tests.processor.mime import bill
from tests.web.conftest import csrf_of


def _raw_post(url: str, path: str, headers: dict[str, str], body_prefix: bytes = b"") -> tuple[int, float]:
    """Send only the headers (and a few body bytes) of a huge POST; the status and how fast it came."""
    parsed = urlparse(url)
    started = time.monotonic()
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as sock:
        lines = [f"POST {path} HTTP/1.1", f"Host: {parsed.hostname}", *(f"{k}: {v}" for k, v in headers.items())]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body_prefix)
        answer = sock.recv(4096).decode("latin-1")
    return int(answer.split()[1]), time.monotonic() - started


def test_an_anonymous_upload_is_refused_before_its_body_is_read(web):
    ana = web.user("ana@solar.example.com")
    unit_id = web.unit(ana, 1)
    multipart = {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(60 * 2**20)}
    status, seconds = _raw_post(web.url, f"/api/v1/units/{unit_id}/invoices",
                                {**multipart, "Authorization": "Bearer fat_not-a-token"}, b"--x\r\n")
    assert status == 401 and seconds < 5  # answered with 60 MiB still unsent
    status, _ = _raw_post(web.url, f"/unidades/{unit_id}/faturas", {**multipart, "Cookie": "faturas_session=forged"})
    assert status == 401


def test_an_oversized_or_unsized_upload_is_refused_from_its_headers(web):
    web.user("ana@solar.example.com")
    token = web.token("ana@solar.example.com")
    status, _ = _raw_post(web.url, "/api/v1/units/1/invoices",
                          {"Authorization": f"Bearer {token}", "Content-Type": "multipart/form-data; boundary=x",
                           "Content-Length": str(2**31)})
    assert status == 413
    status, _ = _raw_post(web.url, "/api/v1/units/1/invoices",
                          {"Authorization": f"Bearer {token}", "Content-Type": "multipart/form-data; boundary=x",
                           "Transfer-Encoding": "chunked"})
    assert status == 411
    status, _ = _raw_post(web.url, "/entrar", {"Content-Type": "application/x-www-form-urlencoded",
                                               "Content-Length": str(8 * 2**20)})
    assert status == 413


def test_an_authenticated_upload_within_the_limit_still_works_and_pages_carry_a_csp(web):
    ana = web.user("ana@solar.example.com")
    unit_id = web.unit(ana, 1, installation="3000000001")
    client = web.login("ana@solar.example.com")
    page = client.get(f"/unidades/{unit_id}")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    answer = client.post(f"/unidades/{unit_id}/faturas", data={"csrf_token": csrf_of(page)},
                         files={"arquivos": ("conta.pdf", bill("3000000001", "2026-10").pdf, "application/pdf")})
    assert answer.status_code == 200 and "2026" in answer.text
