"""`faturas db …` and `faturas keys …`: schema migrations and encryption keys."""

from __future__ import annotations

import typer
from rich.console import Console

from cli.support import app_context
from config.keys import generate_key_file, rotate_keys
from storage import migrate

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="Encryption keys for the secrets stored in the database.", no_args_is_help=True)
console = Console()


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Bring the database schema to the newest version.

    Example: faturas db upgrade
    """
    engine = app_context(ctx).raw_engine
    before = migrate.current_revision(engine)
    migrate.upgrade(engine)
    after = migrate.current_revision(engine)
    console.print(f"database at revision {after}" + ("" if before == after else f" (was {before or 'empty'})"))


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Show the schema revision of the database and the newest one available.

    Example: faturas db current
    """
    engine = app_context(ctx).raw_engine
    console.print(f"current: {migrate.current_revision(engine) or 'empty'}  head: {migrate.head_revision(engine)}")


@keys_app.command("generate")
def keys_generate(ctx: typer.Context,
                  force: bool = typer.Option(False, "--force", help="Overwrite an existing key file.")) -> None:
    """Create the key file that encrypts portal and PDF passwords.

    Example: faturas keys generate
    """
    app = app_context(ctx)
    generate_key_file(app, force=force)
    path = app.settings.key_file
    console.print(f"key written to {path} (mode 600). Back it up: without it stored passwords cannot be read.")


@keys_app.command("rotate")
def keys_rotate(ctx: typer.Context,
                drop_old: bool = typer.Option(True, "--drop-old/--keep-old",
                                              help="Remove the old keys once everything is re-encrypted.")) -> None:
    """Re-encrypt every stored secret under a new key.

    The new key is written first (in front of the old ones), so a crash midway leaves everything
    readable; old keys are dropped only after the re-encryption has committed (config/keys.py).

    With FATURAS_SECRET_KEYS, put the new key first in the variable, then run this.

    Example: faturas keys rotate
    """
    rotation = rotate_keys(app_context(ctx), drop_old=drop_old)
    if rotation.from_environment:
        console.print(f"re-encrypted {rotation.secrets} secret(s) under the first key of FATURAS_SECRET_KEYS; "
                      "you may now remove the old keys from that variable")
    else:
        console.print(f"re-encrypted {rotation.secrets} secret(s) under the new key; "
                      + (f"{rotation.old_keys_kept} old key(s) kept" if rotation.old_keys_kept else "old keys removed"))
