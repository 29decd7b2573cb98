"""`faturas db …`, `faturas keys …`, `faturas backup` and `faturas restore`: schema, keys, backups."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.support import app_context
from config.context import AppContext
from config.keys import generate_key_file, rotate_keys
from config.wiring import blob_store
from storage import migrate
from storage.backup import backup as run_backup
from storage.backup import restore as run_restore
from storage.blob_migrate import migrate_blobs
from storage.blobs import BlobStore
from storage.errors import UnitInputError

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


def _blob_folder(app: AppContext) -> Path | None:
    """The blob folder to back up; None with the database backend (the blobs are in the database dump)."""
    store = blob_store(app)
    return store.root if isinstance(store, BlobStore) else None


def backup(ctx: typer.Context, folder: Path = typer.Argument(..., help="A new (or empty) folder for the backup.")
           ) -> None:
    """Back up the database (SQLite online backup, or pg_dump) and every blob, with a manifest of hashes.

    The key file is not included: back it up apart, or the stored passwords cannot be read.

    Example: faturas backup /var/backups/faturas/2026-12-02
    """
    app = app_context(ctx)
    report = run_backup(engine=app.engine, blobs_root=_blob_folder(app), folder=folder)
    console.print(f"backed up {sum(report.rows.values())} row(s) in {len(report.rows)} table(s) and {report.blobs} "
                  f"blob(s) to {folder} ({report.backend}, schema {report.revision})", highlight=False)
    console.print(f"the key file is not in the backup: keep a copy of {app.settings.key_file} apart",
                  highlight=False)


def restore(ctx: typer.Context, folder: Path = typer.Argument(..., exists=True, file_okay=False,
                                                              help="A folder written by `faturas backup`.")) -> None:
    """Restore a backup into an empty database and the blob folder, checking every hash and row count.

    Example: FATURAS_DATABASE_URL=sqlite:////srv/faturas/new.db faturas restore /var/backups/faturas/2026-12-02
    """
    app = app_context(ctx)
    report = run_restore(engine=app.raw_engine, blobs_root=_blob_folder(app), folder=folder)
    console.print(f"restored {sum(report.rows.values())} row(s) and {report.blobs} blob(s) from {folder} "
                  f"(schema {report.revision}); every hash and row count matched", highlight=False)


blobs_app = typer.Typer(help="Where bill PDFs, screenshots and traces are kept (blobs.backend).", no_args_is_help=True)


@blobs_app.command("migrate")
def blobs_migrate(ctx: typer.Context,
                  to: str = typer.Option(..., "--to", help="The backend to copy every blob to: file, database or s3.")
                  ) -> None:
    """Copy every blob from the configured backend to another one and verify each hash; deletes nothing.

    Then set blobs.backend (FATURAS_BLOBS_BACKEND) to the new backend.

    Example: faturas blobs migrate --to database
    """
    if to not in ("file", "database", "s3"):
        raise typer.BadParameter("must be file, database or s3", param_hint="--to")
    app = app_context(ctx)
    if to == app.settings.blobs_backend:
        raise UnitInputError("--to", f"the blobs are already in the {to} backend")
    source, target = blob_store(app), blob_store(app, backend=to)
    total = sum(1 for _ in source.names())
    with Progress(TextColumn("copying blobs"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True)) as progress:
        task = progress.add_task("blobs", total=total)
        report = migrate_blobs(source=source, target=target, keys=app.keys_if_any(),
                               on_blob=lambda: progress.advance(task))
    console.print(f"{report.verified} blob(s) verified in the {to} backend ({report.copied} copied, "
                  f"{report.present} already there); now set blobs.backend = \"{to}\"", highlight=False)
