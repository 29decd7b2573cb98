"""The embedded mail system starts even when the port it picked is taken before pymap binds it."""

from __future__ import annotations

import imaplib
import socket

from sandbox.embedded_mail import INBOX_USER, EmbeddedMail


def test_pymap_moves_to_another_port_when_its_port_is_taken_meanwhile(tmp_path):
    mail = EmbeddedMail(tmp_path / "clients")
    with socket.socket() as squatter:  # another process took the port between free_port() and pymap's bind
        squatter.bind(("127.0.0.1", mail.imap_port))  # (bound, not listening: as a client's local port is)
        taken = mail.imap_port
        with mail:
            assert mail.imap_port != taken
            with imaplib.IMAP4("127.0.0.1", mail.imap_port) as imap:
                assert imap.login(INBOX_USER, mail.password)[0] == "OK"
