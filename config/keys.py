"""The key file's life cycle: create it; rotate every stored secret under a new key, never unreadable midway."""

from __future__ import annotations

from dataclasses import dataclass

from config.context import AppContext
from processor.oauth import rotate_token_files
from storage.engine import session_scope
from storage.errors import ConfigurationError
from storage.secrets import new_key, read_key_file, write_key_file
from storage.units import rotate_unit_secrets


@dataclass(frozen=True)
class Rotation:
    """What a rotation did."""

    secrets: int
    """How many stored secrets were re-encrypted."""
    from_environment: bool
    """The keys came from FATURAS_SECRET_KEYS: the operator put the new key first, nothing was written."""
    old_keys_kept: int


def generate_key_file(app: AppContext, *, force: bool) -> None:
    """Write a key file with one new key; ConfigurationError when one exists and `force` is not set."""
    path = app.settings.key_file
    if path.exists() and not force:
        raise ConfigurationError(
            f"{path} already exists; use `faturas keys rotate` to change keys "
            "(--force would make the stored secrets unreadable)")
    write_key_file(path, (new_key(),))


def rotate_keys(app: AppContext, *, drop_old: bool) -> Rotation:
    """Re-encrypt every stored secret under a new key.

    The new key is written first (in front of the old ones), so a crash midway leaves everything readable;
    old keys are dropped only after the re-encryption has committed. With FATURAS_SECRET_KEYS the operator
    has put the new key first in the variable: re-encrypt under it and write nothing.
    """
    if app.settings.secret_keys:
        with session_scope(app.engine) as session:
            count = rotate_unit_secrets(session=session, keys=app.keys())
        count += rotate_token_files(app.settings.mail, app.keys())
        return Rotation(secrets=count, from_environment=True, old_keys_kept=0)
    path = app.settings.key_file
    old = read_key_file(path) if path.exists() else ()
    if not old:
        raise ConfigurationError(f"no key file at {path}: create one with `faturas keys generate`")
    fresh = new_key()
    write_key_file(path, (fresh, *old))
    with session_scope(app.engine) as session:
        count = rotate_unit_secrets(session=session, keys=app.keys())
    count += rotate_token_files(app.settings.mail, app.keys())
    if drop_old:
        write_key_file(path, (fresh,))
    return Rotation(secrets=count, from_environment=False, old_keys_kept=0 if drop_old else len(old))
