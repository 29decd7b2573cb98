"""`faturas backup DIR` and `faturas restore DIR`: the database and every blob, with a manifest to verify them.

SQLite is copied with its online backup API (consistent while the service runs); PostgreSQL with `pg_dump
--format=custom` and restored with `pg_restore` (the password travels in PGPASSWORD, never on a command
line). Blobs are copied file by file and each file's sha256 is written to `manifest.json`; a restore checks
every hash and every table's row count before it reports success. The key file is NOT part of a backup:
without it the stored passwords cannot be read, so it is backed up apart, and the commands say so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlmodel import SQLModel

from storage import migrate
from storage.errors import BackupError

MANIFEST = "manifest.json"
SQLITE_FILE = "faturas.db"
PG_FILE = "faturas.pgdump"


@dataclass(frozen=True)
class BackupReport:
    """What a backup or a restore covered."""

    folder: Path
    backend: str
    revision: str | None
    rows: dict[str, int]
    blobs: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _row_counts(engine: Engine) -> dict[str, int]:
    present = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        return {t.name: connection.execute(select(func.count()).select_from(t)).scalar_one()
                for t in SQLModel.metadata.sorted_tables if t.name in present}


def _pg_env(url: URL) -> tuple[list[str], dict[str, str]]:
    args = ["-h", str(url.host or "localhost"), "-p", str(url.port or 5432), "-U", str(url.username or "postgres"),
            "-d", str(url.database)]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client)") from exc
    if result.returncode != 0:
        raise BackupError(f"{what} failed ({result.returncode}): {result.stderr.strip()[-500:]}")


def _sqlite_copy(source_path: Path, target_path: Path) -> None:
    """Copy one SQLite database onto another with the online backup API (consistent while it is written)."""
    source = sqlite3.connect(str(source_path))
    target = sqlite3.connect(str(target_path))
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _blob_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


def backup(*, engine: Engine, blobs_root: Path | None, folder: Path) -> BackupReport:
    """Write the database and every blob into `folder` (new or empty), then the manifest, last.

    `blobs_root` is None with the database blob backend: the blobs are then inside the database copy.
    """
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    url = make_url(engine.url.render_as_string(hide_password=False))
    backend = url.get_backend_name()
    if backend == "sqlite":
        _sqlite_copy(Path(str(url.database)), folder / SQLITE_FILE)
    else:
        args, env = _pg_env(url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "-f", str(folder / PG_FILE), *args],
             env, "pg_dump")
    blobs = {}
    for path in _blob_files(blobs_root) if blobs_root is not None else []:
        relative = path.relative_to(blobs_root)
        copy = folder / "blobs" / relative
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
        blobs[str(relative)] = _sha256(copy)
    rows = _row_counts(engine)
    revision = migrate.current_revision(engine)
    manifest = {"format": 1, "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "backend": backend,
                "revision": revision, "rows": rows, "blobs": blobs,
                "database_file": SQLITE_FILE if backend == "sqlite" else PG_FILE,
                "database_sha256": _sha256(folder / (SQLITE_FILE if backend == "sqlite" else PG_FILE))}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    return BackupReport(folder=folder, backend=backend, revision=revision, rows=rows, blobs=len(blobs))


def _manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(f"{folder} has no {MANIFEST}: not a faturas backup, or an unfinished one") from exc
    except json.JSONDecodeError as exc:
        raise BackupError(f"{folder / MANIFEST} is not valid JSON: {exc}") from exc
    if manifest.get("format") != 1:
        raise BackupError(f"{folder / MANIFEST}: unknown format {manifest.get('format')!r}")
    return manifest


def verify(folder: Path) -> dict:
    """The manifest, once every file it lists is present with its recorded sha256."""
    manifest = _manifest(folder)
    database = folder / manifest["database_file"]
    if not database.is_file() or _sha256(database) != manifest["database_sha256"]:
        raise BackupError(f"{database} is missing or altered")
    for relative, digest in manifest["blobs"].items():
        path = folder / "blobs" / relative
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"blob {relative} is missing or altered in {folder}")
    return manifest


def restore(*, engine: Engine, blobs_root: Path | None, folder: Path) -> BackupReport:
    """Restore `folder` into an empty database of the same kind and the blob folder, then check the row counts."""
    manifest = verify(folder)
    url = make_url(engine.url.render_as_string(hide_password=False))
    backend = url.get_backend_name()
    if backend != manifest["backend"]:
        raise BackupError(f"the backup is of {manifest['backend']}, the database is {backend}")
    if manifest["blobs"] and blobs_root is None:
        raise BackupError("the backup holds blob files but blobs.backend is database: restore with the file "
                          "backend, then `faturas blobs migrate --to database`")
    if migrate.current_revision(engine) is not None or any(_row_counts(engine).values()):
        raise BackupError("the target database is not empty: restore into a new database")
    if backend == "sqlite":
        engine.dispose()
        _sqlite_copy(folder / SQLITE_FILE, Path(str(url.database)))
    else:
        args, env = _pg_env(url)
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", *args, str(folder / PG_FILE)],
             env, "pg_restore")
    for relative in manifest["blobs"]:
        target_path = blobs_root / relative  # type: ignore[operator] - None only without blob files (checked)
        if not target_path.exists():
            target_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(folder / "blobs" / relative, target_path)
    rows = _row_counts(engine)
    if rows != manifest["rows"]:
        raise BackupError(f"restored row counts differ from the backup's: {rows} != {manifest['rows']}")
    return BackupReport(folder=folder, backend=backend, revision=migrate.current_revision(engine), rows=rows,
                        blobs=len(manifest["blobs"]))
