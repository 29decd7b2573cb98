"""Reusable simulator fixtures: a real uvicorn server per test session, a clean store per test.

Use them from any conftest with::

    from tests.simulator.fixtures import simulator, simulator_server  # noqa: F401

then ``def test_x(simulator): simulator.url; simulator.admin.add_customer(...); simulator.store.report()``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from simulator.portal.app import DEFAULT_SOLVER_KEY, create_app
from simulator.portal.captcha import SITE_KEY
from simulator.portal.client import AdminClient
from simulator.portal.server import BackgroundServer
from simulator.portal.store import Store

ADMIN_TOKEN = "test-admin-token"


@dataclass
class Customer:
    """What a test needs to log in as a seeded customer."""

    id: int
    name: str
    document: str | None
    email: str | None
    password: str
    installations: list[str] = field(default_factory=list)


@dataclass
class Simulator:
    """One running simulator: its URL, admin client and store (shared by the session, reset per test)."""

    url: str
    admin: AdminClient
    store: Store
    admin_token: str = ADMIN_TOKEN
    solver_key: str = DEFAULT_SOLVER_KEY
    site_key: str = SITE_KEY

    @property
    def login_url(self) -> str:
        """The login page."""
        return f"{self.url}/Login"

    def add_customer(self, *, name: str = "Maria Aparecida Souza", document: str | None = "123.456.789-09",
                     email: str | None = "maria.souza@example.com", password: str = "Senha@123",
                     installations: tuple[str, ...] = ("3000055479",), scenario: dict | None = None,
                     **fields) -> Customer:
        """Create a login with installations (all held by the login itself) through the admin API."""
        created = self.admin.add_customer(name=name, document=document, email=email, password=password,
                                          scenario=scenario, **fields)
        for number in installations:
            self.admin.add_installation(created["id"], number)
        return Customer(created["id"], name, created["document"], email, password, list(installations))

    def http(self) -> httpx.Client:
        """A cookie-keeping HTTP client for the portal pages (not following redirects)."""
        return httpx.Client(base_url=self.url, timeout=10.0)

    def login(self, client: httpx.Client, identifier: str, password: str, *, captcha_token: str | None = None,
              variant_field: str = "Acesso") -> httpx.Response:
        """Post the login form the way the page does (anti-forgery token included)."""
        page = client.get("/Login")
        match = re.search(r'name="__RequestVerificationToken" value="([^"]+)"', page.text)
        assert match, "login form without its anti-forgery token"
        data = {"__RequestVerificationToken": match.group(1), variant_field: identifier,
                "Senha" if variant_field == "Acesso" else "password": password}
        if captcha_token is not None:
            data["g-recaptcha-response"] = captcha_token
        return client.post("/Login", data=data)


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[tuple[str, Store]]:
    """One simulator on a free port for the whole test session."""
    store = Store(":memory:")
    app = create_app(store, admin_token=ADMIN_TOKEN)
    with BackgroundServer(app) as server:
        yield server.url, store
    store.close()


@pytest.fixture
def simulator(simulator_server) -> Iterator[Simulator]:
    """The session's simulator with an empty store (no customers, scenarios, sessions or events)."""
    url, store = simulator_server
    store.reset()
    with AdminClient(url, ADMIN_TOKEN) as admin:
        yield Simulator(url=url, admin=admin, store=store)
