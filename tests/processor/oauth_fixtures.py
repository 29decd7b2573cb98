"""Fixtures for OAuth mailboxes: the loopback authorization server and a Dovecot that introspects its tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.processor.conftest import PASSWORD, USER
from tests.servers.dovecot import Dovecot
from tests.servers.oauth import OAuthServer


@pytest.fixture(scope="module")
def oauth_server() -> Iterator[OAuthServer]:
    server = OAuthServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def oauth_dovecot(oauth_server: OAuthServer) -> Iterator[Dovecot]:
    server = Dovecot.start({USER: PASSWORD, "other": "other-secret-2"},
                           introspection_url=f"{oauth_server.url}/introspect")
    yield server
    server.stop()
