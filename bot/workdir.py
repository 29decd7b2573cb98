"""The browser's temporary files live in a private folder of the data folder, and die with their run.

Playwright's driver keeps a context's trace network log and resources (request bodies included), and
Chromium its profile, in folders under TMPDIR that only a clean browser close removes. After a SIGKILL
they stay behind, world-readable in /tmp. So every bot run gets `<data_dir>/browser/run-*` (the parent is
mode 700): the driver and the browser are started with TMPDIR pointing inside it, the run holds an
exclusive lock on it while alive, and each new run first removes the folders whose lock nobody holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from multiprocessing import forkserver
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

LOCK_NAME = ".lock"
# A folder without its lock file is a run killed between creating the folder and locking it.
UNLOCKED_GRACE_S = 60.0
# The driver copies os.environ when it starts: one start at a time may point it at its own folder.
_DRIVER_ENV_LOCK = threading.Lock()


def browser_root(data_dir: Path) -> Path:
    """`<data_dir>/browser`, created private (mode 700) if needed."""
    root = Path(data_dir) / "browser"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(root, 0o700)
    return root


def remove_stale(root: Path) -> list[str]:
    """Remove the run folders under `root` whose run is gone (nobody holds their lock); their names."""
    removed = []
    for folder in sorted(root.glob("run-*")):
        if folder.is_dir() and _is_stale(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    if removed:
        log.info("stale_browser_folders_removed", count=len(removed))
    return removed


def _is_stale(folder: Path) -> bool:
    lock = folder / LOCK_NAME
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return time.time() - folder.stat().st_mtime > UNLOCKED_GRACE_S
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # a live run holds it
    finally:
        os.close(fd)  # closing drops a lock we may have taken
    return True


@contextlib.contextmanager
def run_folder(data_dir: Path) -> Iterator[Path]:
    """A locked, private folder for one bot run; stale ones are removed first, this one at the end."""
    root = browser_root(data_dir)
    remove_stale(root)
    folder = Path(tempfile.mkdtemp(prefix="run-", dir=root))
    fd = os.open(folder / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        (folder / "tmp").mkdir(mode=0o700)
        yield folder
    finally:
        os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.asynccontextmanager
async def driver_tmpdir(folder: Path) -> AsyncIterator[None]:
    """While entered, a Playwright driver started now gets TMPDIR = `folder/tmp` (and so does its browser).

    The driver's environment is a copy of os.environ taken when it starts, and Playwright offers no other
    way to set it; the change is undone as soon as the driver is up. The lock is taken off the event loop,
    so two runs in one process (or one loop) take turns instead of deadlocking.
    """
    # Other threads of this process must not see the change: Python's tempfile caches its folder on first
    # use (a run folder, removed later, would become every thread's temporary folder), and a fork server
    # started now would keep it (its socket path would also be too long). Both are settled first.
    tempfile.gettempdir()
    forkserver.ensure_running()
    await asyncio.to_thread(_DRIVER_ENV_LOCK.acquire)
    before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(folder / "tmp")
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = before
        _DRIVER_ENV_LOCK.release()
