from pathlib import Path

import pytest

from config.settings import load_settings
from storage.errors import ConfigurationError


def test_defaults_live_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"HOME": str(tmp_path)})
    assert settings.data_dir == tmp_path / ".local" / "share" / "faturas"
    assert settings.database_url == f"sqlite:///{settings.data_dir / 'faturas.db'}"
    assert settings.key_file == settings.data_dir / "keys" / "faturas.key"
    assert settings.inbox_domain == "faturas.example.com"


def test_environment_beats_toml_beats_defaults(tmp_path):
    config = tmp_path / "faturas.toml"
    config.write_text('data_dir = "/srv/f"\n[inbox]\ndomain = "Bills.Example.org"\npattern = "{utility}-{token}"\n'
                      '[logging]\nlevel = "debug"\n')
    settings = load_settings({"FATURAS_INBOX_DOMAIN": "env.example.net"}, config)
    assert settings.data_dir == Path("/srv/f")
    assert settings.inbox_domain == "env.example.net"
    assert settings.inbox_pattern == "{utility}-{token}"
    assert settings.log_level == "debug"
    via_env = load_settings({"FATURAS_CONFIG": str(config), "HOME": str(tmp_path)})
    assert via_env.inbox_domain == "bills.example.org"


@pytest.mark.parametrize(("env", "message"), [
    ({"FATURAS_INBOX_PATTERN": "uc-{installation}"}, "FATURAS_INBOX_PATTERN: .*never reused"),
    ({"FATURAS_INBOX_PATTERN": "uc-{name}-{token}"}, "placeholders"),
    ({"FATURAS_INBOX_DOMAIN": "not a domain"}, "FATURAS_INBOX_DOMAIN"),
    ({"FATURAS_LOG_FORMAT": "xml"}, "FATURAS_LOG_FORMAT"),
    ({"FATURAS_CSV_BATCH_SIZE": "0"}, "at least 1"),
    ({"FATURAS_CONFIG": "/nonexistent/faturas.toml"}, "does not exist"),
])
def test_bad_values_name_their_source(env, message, tmp_path):
    with pytest.raises(ConfigurationError, match=message):
        load_settings({"HOME": str(tmp_path), **env})


def test_broken_toml_is_reported(tmp_path):
    config = tmp_path / "faturas.toml"
    config.write_text("[inbox\n")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_settings({}, config)
