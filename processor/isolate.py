"""Reading PDFs in a child process, under an address-space limit and a timeout.

A 4 MB flate bomb decompressed by pypdf or PDFium can take gigabytes; a PDF that loops keeps a worker
busy forever. Unlock and parse (`processor.unlock`, `processor.bill`) therefore run in a forked reader
process (forked by multiprocessing's fork server) with `resource.setrlimit(RLIMIT_AS, its size at start +
limit)`. The reader is kept and reused
(a fork per PDF cost ~60 ms, four times the parse itself); one that runs out of memory, dies or takes
longer than the timeout is killed and replaced, and the bill ends `too_large` (MemoryError in Python,
or an abort, which is how PDFium fails an allocation) or `unreadable` (another crash, the timeout),
never the worker. Tasks and results go through a pipe (kernel memory, never disk); the reader leaves
with `os._exit`, so nothing of the parent (atexit handlers, buffered logs, connections) runs twice.
One reader per process, used under a lock: PDFium was already serialised (processor.parse.text).

Errors: BillTooLarge, BillUnreadable, plus what unlock/read_bill raise (BillLocked …).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from processor.bill import read_bill
from processor.errors import BillLocked, BillRejected, BillTooLarge, BillUnreadable
from processor.types import PdfPart, ReadBill
from processor.unlock import unlock

log = structlog.get_logger(__name__)
_REJECTIONS: dict[str, type[BillRejected]] = {cls.__name__: cls for cls in (BillLocked, BillUnreadable,
                                                                              BillTooLarge)}


def _address_space() -> int:
    """The current virtual size of this process in bytes (the reader's limit is set above it)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _one(task: tuple) -> tuple:
    part, passwords, utility, installations, options = task
    try:
        return ("ok", read_bill(unlock(part, passwords=passwords), utility=utility, installations=installations,
                                **options))
    except MemoryError:
        return ("memory", None)
    except BillRejected as exc:
        return ("rejected", (type(exc).__name__, str(exc), exc.user_message))
    except Exception as exc:  # noqa: BLE001 - reported to the parent as an unreadable bill
        return ("error", f"{type(exc).__name__}: {exc}"[:500])


def _serve(conn, limit_bytes: int) -> None:  # noqa: ANN001 - a multiprocessing Connection
    """The reader's loop: one task in, one result out, until the pipe closes."""
    try:
        # The parent's Python signal handlers (the service's SIGTERM → stop flag) would keep this child alive
        # when multiprocessing terminates it at exit, and the parent would wait for it forever.
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(number, signal.SIG_DFL)
        # Drop every descriptor inherited from the parent but stdio and our pipe: a listening socket kept
        # open here would stop the parent from binding its port again after a restart.
        keep = conn.fileno()
        os.closerange(3, keep)
        os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
        ceiling = _address_space() + limit_bytes
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
        while True:
            try:
                task = conn.recv()
            except (EOFError, OSError):
                break
            result = _one(task)
            try:
                conn.send(result)
            except MemoryError:
                conn.send(("memory", None))
    finally:
        os._exit(0)


@dataclass
class PdfReader:
    """The process's reader child, started on first use and replaced after a failure."""

    limit_bytes: int
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _child: multiprocessing.process.BaseProcess | None = None
    _conn: object = None
    _pid: int = 0

    def _start(self) -> None:
        # Forked from multiprocessing's fork server, a single-threaded process started once, not from this
        # one: a fork of a threaded process (the service, the dashboard) can inherit a lock another thread
        # held at that moment (logging, PDFium's), and the reader would hang on it forever.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["processor.bill", "processor.unlock"])
        parent, child_end = context.Pipe()
        self._child = context.Process(target=_serve, args=(child_end, self.limit_bytes), daemon=True,
                                      name="faturas-pdf-reader")
        self._child.start()
        child_end.close()
        self._conn, self._pid = parent, os.getpid()

    def warm(self) -> None:
        """Start the reader now (the fork server imports the parser: about a second), not at the first bill."""
        with self._lock:
            self._ensure_running()

    def _ensure_running(self) -> None:
        """A live reader of this process (a fork of the service inherits none); the caller holds the lock."""
        if self._child is None or self._pid != os.getpid() or not self._child.is_alive():
            self._stop()
            self._start()

    def _stop(self) -> int | None:
        child, conn, self._child, self._conn = self._child, self._conn, None, None
        if conn is not None:
            conn.close()  # type: ignore[attr-defined]
        if child is None:
            return None
        if child.is_alive():
            child.kill()
        child.join()
        return child.exitcode

    def read(self, part: PdfPart, *, passwords: Sequence[tuple[str, str]], utility: str,
             installations: Sequence[str], timeout_s: float, options: dict | None = None) -> ReadBill:
        """Unlock and parse `part` in the reader; raises BillTooLarge, BillUnreadable or BillLocked.

        `options` are read_bill's keyword arguments.
        """
        with self._lock:
            self._ensure_running()
            conn = self._conn
            try:
                conn.send((part, tuple(passwords), utility, tuple(installations),  # type: ignore[attr-defined]
                           dict(options or {})))
                if not conn.poll(timeout_s):  # type: ignore[attr-defined]
                    self._stop()
                    log.warning("pdf_read_timed_out", filename=part.filename, timeout_s=timeout_s)
                    raise BillUnreadable(f"reading the PDF {part.filename or ''} took over {timeout_s:g}s: "
                                         "abandoned")
                kind, payload = conn.recv()  # type: ignore[attr-defined]
            except (EOFError, OSError, BrokenPipeError):
                kind, payload = "died", self._stop()
        return self._answer(part, kind, payload)

    def _answer(self, part: PdfPart, kind: str, payload: object) -> ReadBill:
        limit_mb = self.limit_bytes // 2**20
        if kind == "ok":
            return payload  # type: ignore[return-value]
        if kind == "rejected":
            name, message, user_message = payload  # type: ignore[misc]
            raise _REJECTIONS.get(name, BillUnreadable)(message, user_message=user_message)
        if kind == "error":
            raise BillUnreadable(f"the PDF {part.filename or ''} cannot be read: {payload}")
        if kind == "died":
            log.warning("pdf_reader_died", filename=part.filename, exitcode=payload)
        if kind == "memory" or payload == -signal.SIGABRT:  # PDFium aborts on a failed allocation
            log.warning("pdf_over_memory_limit", filename=part.filename, limit_mb=limit_mb)
            raise BillTooLarge(f"the PDF {part.filename or ''} needs more than {limit_mb} MiB to read "
                               "(a compression bomb?)")
        raise BillUnreadable(f"the PDF reader stopped while reading {part.filename or ''} "
                             f"(exit code {payload}): the PDF is malformed or too large")


_READERS: dict[int, PdfReader] = {}
_READERS_LOCK = threading.Lock()


def _reader(limit_bytes: int) -> PdfReader:
    with _READERS_LOCK:
        reader = _READERS.get(limit_bytes)
        if reader is None:
            reader = _READERS[limit_bytes] = PdfReader(limit_bytes=limit_bytes)
    return reader


def warm_reader(limit_bytes: int) -> None:
    """Start this process's reader for `limit_bytes` ahead of the first PDF (a service does it at start)."""
    _reader(limit_bytes).warm()


def read_isolated(part: PdfPart, *, passwords: Sequence[tuple[str, str]], utility: str,
                  installations: Sequence[str], limit_bytes: int, timeout_s: float,
                  options: dict | None = None) -> ReadBill:
    """Unlock and parse `part` in this process's reader for `limit_bytes` (created on first use).

    `options` are read_bill's keyword arguments (`uc_code_known`, `unparsed_fallback`).
    """
    return _reader(limit_bytes).read(part, passwords=passwords, utility=utility, installations=installations,
                       timeout_s=timeout_s, options=options)
