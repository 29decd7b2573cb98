"""`auth = "xoauth2"` in [[mail.accounts]] and [mail.smtp]: where the token files go, and the errors."""

from __future__ import annotations

import pytest

from config.settings import load_settings
from processor.oauth import endpoints
from storage.errors import ConfigurationError


def _settings(tmp_path, body: str, **env: str):
    config = tmp_path / "faturas.toml"
    config.write_text(body)
    return load_settings({"HOME": str(tmp_path), "FATURAS_CONFIG": str(config),
                          "FATURAS_DATA_DIR": str(tmp_path / "data"), **env})


def test_xoauth2_accounts_get_token_files_in_the_data_folder_and_provider_endpoints(tmp_path):
    secret = tmp_path / "client.secret"
    secret.write_text("s3cret-value\n")
    settings = _settings(tmp_path, f"""
[mail]
[[mail.accounts]]
name = "google box/1"
host = "imap.gmail.com"
user = "faturas@example.com"
auth = "xoauth2"
oauth = {{ provider = "google", client_id = "id.apps.googleusercontent.com", client_secret_file = "{secret}" }}
[[mail.accounts]]
name = "plain"
host = "imap.example.com"
user = "u"
password = "pw"
[mail.smtp]
host = "smtp.office365.com"
port = 587
tls = "starttls"
user = "faturas@example.com"
auth = "xoauth2"
oauth = {{ provider = "microsoft", client_id = "app", tenant = "contoso.onmicrosoft.com" }}
""")
    google, plain = settings.mail.accounts
    assert google.auth == "xoauth2" and google.password is None
    assert google.oauth.client_secret.get_secret_value() == "s3cret-value"
    assert google.oauth.token_file == tmp_path / "data" / "oauth" / "imap-google_box_1.token"
    assert google.oauth.key_file == tmp_path / "data" / "keys" / "faturas.key"
    assert endpoints(google.oauth) == ("https://oauth2.googleapis.com/token",
                                       "https://oauth2.googleapis.com/device/code", "https://mail.google.com/")
    assert plain.auth == "password" and plain.oauth is None
    relay = settings.mail.smtp
    assert relay.oauth.token_file == tmp_path / "data" / "oauth" / "smtp-relay.token"
    assert endpoints(relay.oauth)[1] == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode"
    assert "s3cret-value" not in repr(settings)


@pytest.mark.parametrize(("body", "message"), [
    ('[[mail.accounts]]\nname = "m"\nhost = "h"\nuser = "u"\nauth = "xoauth2"\n',
     'mail.accounts[0]: Value error, auth = "xoauth2" needs an oauth table'),
    ('[[mail.accounts]]\nname = "m"\nhost = "h"\nuser = "u"\nauth = "xoauth2"\noauth = { client_id = "c" }\n',
     "a generic OAuth provider needs token_url"),
    ('[[mail.accounts]]\nname = "m"\nhost = "h"\nuser = "u"\n', "needs a password (or password_file)"),
    ('[[mail.accounts]]\nname = "m"\nhost = "h"\nuser = "u"\nauth = "token"\npassword = "p"\n',
     "mail.accounts[0].auth: Input should be 'password' or 'xoauth2'"),
    ('[mail.smtp]\nhost = "h"\nauth = "xoauth2"\noauth = { provider = "google", client_id = "c" }\n',
     "needs the user the token belongs to"),
])
def test_bad_auth_settings_name_what_to_fix(tmp_path, body, message):
    with pytest.raises(ConfigurationError) as caught:
        _settings(tmp_path, "[mail]\n" + body)
    assert message in str(caught.value)


def test_environment_selects_xoauth2_for_the_default_account(tmp_path):
    settings = _settings(tmp_path, "", FATURAS_IMAP_HOST="outlook.office365.com", FATURAS_IMAP_USER="f@example.com",
                         FATURAS_IMAP_AUTH="xoauth2", FATURAS_IMAP_OAUTH_PROVIDER="generic",
                         FATURAS_IMAP_OAUTH_CLIENT_ID="cid", FATURAS_IMAP_OAUTH_TOKEN_URL="https://idp.example/token",
                         FATURAS_SECRET_KEYS="k1")
    (account,) = settings.mail.accounts
    assert account.auth == "xoauth2" and account.oauth.token_url == "https://idp.example/token"
    assert account.oauth.token_file.name == "imap-default.token"
    assert account.oauth.secret_keys.get_secret_value() == "k1"
