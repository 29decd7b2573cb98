import pytest

from storage.errors import ConfigurationError, SecretKeyInvalid, SecretKeyMissing
from storage.secrets import KeyRing, load_key_ring, new_key, read_key_file, write_key_file


def test_round_trip_and_token_hides_plaintext():
    ring = KeyRing((new_key(),))
    token = ring.encrypt("senha-secreta-123")
    assert "senha" not in token
    assert ring.decrypt(token) == "senha-secreta-123"


def test_rotation_keeps_old_tokens_readable_and_moves_them_to_the_new_key():
    old = KeyRing((new_key(),))
    token = old.encrypt("pdf-pass")
    rotated_ring = KeyRing((new_key(), *old.keys))
    rotated = rotated_ring.rotate(token)
    assert rotated_ring.decrypt(token) == "pdf-pass"
    assert KeyRing(rotated_ring.keys[:1]).decrypt(rotated) == "pdf-pass"
    with pytest.raises(SecretKeyInvalid):
        KeyRing(rotated_ring.keys[:1]).decrypt(token)


def test_missing_key_says_how_to_create_one(tmp_path):
    with pytest.raises(SecretKeyMissing, match="faturas keys generate"):
        load_key_ring(env_keys=None, key_file=tmp_path / "nope.key")


def test_env_keys_win_over_the_file(tmp_path):
    file_key, env_key = new_key(), new_key()
    write_key_file(tmp_path / "k", (file_key,))
    assert load_key_ring(env_keys=f" {env_key} ,", key_file=tmp_path / "k").keys == (env_key,)
    assert load_key_ring(env_keys=None, key_file=tmp_path / "k").keys == (file_key,)


def test_key_file_is_private_and_round_trips(tmp_path):
    path = tmp_path / "keys" / "faturas.key"
    keys = (new_key(), new_key())
    write_key_file(path, keys)
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_key_file(path) == keys


def test_a_malformed_key_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="key #1"):
        KeyRing(("not-a-key",))
