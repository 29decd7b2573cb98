"""Small helpers shared by tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


def database_dump(url: str) -> bytes:
    """Everything the database holds on disk: the SQLite file (+WAL), or a pg_dump of the database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = str(parsed.database)
        return b"".join(Path(p).read_bytes() for p in (path, path + "-wal") if Path(p).exists())
    return subprocess.run(
        ["pg_dump", "-h", str(parsed.host), "-p", str(parsed.port or 5432), "-U", str(parsed.username),
         str(parsed.database)],
        check=True, capture_output=True).stdout
