"""`faturas doctor` against real servers: everything in order, then each thing broken with its fix named."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cli.main import build_app
from cli.support import EXIT_FAILED, run_app
from config.context import AppContext
from config.settings import load_settings
from service.doctor import diagnose
from storage.secrets import new_key, write_key_file
from tests.processor.conftest import PASSWORD, USER


def _dkim_key(tmp_path) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "dkim.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    public = base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    return str(path), public


def _environ(tmp_path, database_url, dovecot, smtp, **extra) -> dict[str, str]:
    return {"HOME": str(tmp_path), "FATURAS_DATA_DIR": str(tmp_path / "data"), "FATURAS_DATABASE_URL": database_url,
            "FATURAS_IMAP_HOST": dovecot.host, "FATURAS_IMAP_PORT": str(dovecot.imap_port),
            "FATURAS_IMAP_TLS": "none", "FATURAS_IMAP_USER": USER, "FATURAS_IMAP_PASSWORD": PASSWORD,
            "FATURAS_SMTP_HOST": smtp.host, "FATURAS_SMTP_PORT": str(smtp.port), "FATURAS_SMTP_TLS": "none",
            **extra}


def test_a_machine_in_order_passes_every_check(tmp_path, database_url, mail):
    dovecot, smtp = mail
    key_file, public = _dkim_key(tmp_path)
    app = AppContext(settings=load_settings(_environ(tmp_path, database_url, dovecot, smtp,
                                                     FATURAS_DKIM_KEY_FILE=key_file,
                                                     FATURAS_KEY_FILE=str(tmp_path / "keys"))))
    write_key_file(app.settings.key_file, (new_key(),))
    app.engine  # noqa: B018 - the schema at head
    asked = []

    def dns(name: bytes) -> bytes:
        asked.append(name)
        return f"v=DKIM1; k=rsa; p={public}".encode()

    findings = diagnose(app, dns_txt=dns)
    assert [f.name for f in findings if not f.ok] == [], [(f.name, f.detail) for f in findings]
    assert {f.name for f in findings} >= {"configuration", "keys", "database", "mailbox:default", "smtp_relay",
                                         "dkim", "browser", "disk", "blobs"}
    assert asked == [b"faturas._domainkey.faturas.example.com"]
    assert not list((tmp_path / "data" / "blobs").rglob("*.blob")), "the probe blob was left behind"
    other = diagnose(app, dns_txt=lambda name: b"v=DKIM1; k=rsa; p=AAAA")
    (dkim,) = [f for f in other if f.name == "dkim"]
    assert not dkim.ok and public in dkim.fix
    app.close()


def test_each_broken_part_fails_with_its_fix_and_the_command_exits_1(tmp_path, database_url, mail, monkeypatch,
                                                                     capsys):
    dovecot, smtp = mail
    key_path = tmp_path / "keys"
    write_key_file(key_path, (new_key(),))
    os.chmod(key_path, 0o644)
    for name, value in _environ(tmp_path, database_url, dovecot, smtp, FATURAS_KEY_FILE=str(key_path),
                                FATURAS_IMAP_PASSWORD="wrong-password").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("FATURAS_SECRET_KEYS", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    code = run_app(build_app(), ["doctor"])
    out = capsys.readouterr().out
    assert code == EXIT_FAILED
    assert "FAIL keys" in out and f"fix: chmod 600 {key_path}" in out
    assert "FAIL mailbox:default" in out and "fix: check the account's host" in out
    assert "wrong-password" not in out
    assert "ok   smtp_relay" in out and "ok   database" in out
    assert "checks passed, " in out
