"""The [mail] settings: TOML and environment, validated with messages that name the source."""

from __future__ import annotations

import pytest

from config.settings import load_settings
from storage.errors import ConfigurationError


def test_toml_accounts_smtp_rules_and_defaults(tmp_path):
    secret = tmp_path / "imap.pw"
    secret.write_text("app-password-123\n")
    config = tmp_path / "faturas.toml"
    config.write_text(f"""
[inbox]
domain = "bills.example.org"
[mail]
reply_to = "suporte@integradora.example.com"
dkim_policy = "warn"
[[mail.accounts]]
name = "main"
host = "imap.example.org"
user = "bills@example.org"
password_file = "{secret}"
[[mail.accounts]]
name = "second"
host = "imap2.example.org"
port = 143
tls = "starttls"
user = "b2"
password = "pw2"
processed = "Arquivo"
[mail.smtp]
host = "smtp.example.org"
port = 587
tls = "starttls"
[mail.pdf_password_rules]
cemig = ["{{document[0:5]}}", "{{installation}}"]
""")
    mail = load_settings({"HOME": str(tmp_path)}, config).mail
    main, second = mail.accounts
    assert main.effective_port == 993 and main.tls == "ssl" and main.password.get_secret_value() == "app-password-123"
    assert second.effective_port == 143 and second.processed == "Arquivo" and second.quarantine == "Quarantine"
    assert mail.smtp.port == 587 and mail.from_address == "Faturas <faturas@bills.example.org>"
    assert mail.dkim_policy == "warn" and mail.pdf_password_rules["cemig"] == ("{document[0:5]}", "{installation}")
    assert "app-password-123" not in repr(mail)


def test_the_environment_gives_one_account_and_the_relay(tmp_path):
    env = {"HOME": str(tmp_path), "FATURAS_IMAP_HOST": "127.0.0.1", "FATURAS_IMAP_PORT": "1143",
           "FATURAS_IMAP_USER": "bills", "FATURAS_IMAP_PASSWORD": "pw", "FATURAS_IMAP_TLS": "none",
           "FATURAS_SMTP_HOST": "127.0.0.1", "FATURAS_SMTP_PORT": "2525", "FATURAS_MAIL_FROM": "F <f@x.example>",
           "FATURAS_DKIM_POLICY": "off", "FATURAS_MAIL_MAX_ATTACHMENT_BYTES": "100000"}
    mail = load_settings(env).mail
    (account,) = mail.accounts
    assert (account.name, account.port, account.tls) == ("default", 1143, "none")
    assert mail.smtp.port == 2525 and mail.from_address == "F <f@x.example>" and mail.dkim_policy == "off"
    assert mail.max_attachment_bytes == 100000


@pytest.mark.parametrize(("env", "message"), [
    ({"FATURAS_IMAP_HOST": "h", "FATURAS_IMAP_USER": "u", "FATURAS_IMAP_PASSWORD": "p", "FATURAS_IMAP_TLS": "tls"},
     "FATURAS_IMAP_TLS"),
    ({"FATURAS_IMAP_HOST": "h"}, "FATURAS_IMAP_USER: Field required"),
    ({"FATURAS_DKIM_POLICY": "maybe"}, "FATURAS_DKIM_POLICY"),
    ({"FATURAS_MAIL_REPLY_TO": "nobody"}, "FATURAS_MAIL_REPLY_TO: .*e-mail address"),
    ({"FATURAS_MAIL_MAX_ATTACHMENT_BYTES": "10"}, "FATURAS_MAIL_MAX_ATTACHMENT_BYTES"),
])
def test_bad_environment_values_name_their_variable(env, message, tmp_path):
    with pytest.raises(ConfigurationError, match=message):
        load_settings({"HOME": str(tmp_path), **env})


def test_bad_toml_values_name_their_key(tmp_path):
    config = tmp_path / "faturas.toml"
    config.write_text('[[mail.accounts]]\nname = "a"\nhost = "h"\nuser = "u"\npassword = "p"\nport = 99999\n'
                      '[mail.pdf_password_rules]\ncemig = ["{cpf}"]\n')
    with pytest.raises(ConfigurationError, match=r"mail.accounts\[0\].port.*TCP port") as info:
        load_settings({"HOME": str(tmp_path)}, config)
    assert "mail.pdf_password_rules" in str(info.value) and "{document}" in str(info.value)
    assert "p" not in str(info.value).split("port")[0].split(":")[-1]
