"""Adhesion throughput and memory: the bot against a local simulator running in its own process.

    .venv/bin/python bench/adhesion.py --units 24 --concurrency 1 2 4

For each concurrency it enrols fresh units and prints the median and p90 bot time per unit (attempt
start to finish), units per minute over the whole run, the peak memory (RSS, and PSS at the RSS peak) of
the bot process plus every browser process it started (sampled from /proc every 0.5 s), the 1-minute
load average before and after the run, and how many cores other processes used meanwhile on average
(the machine may be shared). Targets on a 2-core machine: median ≤ 3 s per
unit, ≥ 40 units/min at concurrency 4, peak RSS ≤ 1.5 GB. Record results in bench/results/.
`--variant spa` (legacy, agv, mui) runs every customer on that simulator family.
`--units-per-login 3` puts three installations under each portal login (they share one session).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.adhesion import AdhesionOptions, adhere_units  # noqa: E402
from config.context import AppContext  # noqa: E402
from config.settings import load_settings  # noqa: E402
from simulator.portal.client import AdminClient  # noqa: E402
from storage.adhesion import attempts_of  # noqa: E402
from storage.engine import session_scope  # noqa: E402
from storage.models import UnitCreate  # noqa: E402
from storage.secrets import new_key  # noqa: E402
from storage.units import create_unit  # noqa: E402

TOKEN = "bench-admin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_table() -> dict[int, tuple[int, int]]:
    """Every process: pid → (parent pid, CPU ticks used so far)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        table[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return table


def tree_pids(root_pid: int, table: dict[int, tuple[int, int]], exclude: set[int] = frozenset()) -> list[int]:
    """A process and its descendants, without the excluded ones (and theirs)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = [], [root_pid]
    while stack:
        pid = stack.pop()
        if pid in exclude:
            continue
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * PAGE_SIZE
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0


def _pss(pid: int) -> int:
    """Proportional set size: shared pages split between the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class PeakSampler(threading.Thread):
    """Peak memory of this process tree, and the CPU other processes used meanwhile, sampled every 0.5 s.

    Memory: the RSS sum, and the PSS sum whenever RSS peaks. RSS counts Chromium's shared pages once per
    process and overstates the footprint; PSS splits them. Reading PSS (smaps_rollup) costs ~3 ms of
    kernel CPU per Chromium process: sampled every 100 ms it took ~40 % of a core from the run being
    measured, so it is read only at a new RSS peak.
    CPU of other processes (anything outside this process and its children, e.g. another test run): the
    growth of their CPU ticks between samples, so the figures say how shared the machine was.
    """

    def __init__(self, exclude: set[int], interval_s: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.exclude, self.interval_s = exclude, interval_s
        self.peak_rss = 0
        self.peak_pss = 0
        self.other_ticks = 0
        self._halt = threading.Event()
        self._began = time.perf_counter()

    def run(self) -> None:
        last: dict[int, int] = {}
        while True:
            table = process_table()
            ours = set(tree_pids(os.getpid(), table))
            mine = tree_pids(os.getpid(), table, self.exclude)
            for pid, (_, ticks) in table.items():
                if pid not in ours:
                    self.other_ticks += ticks - last.get(pid, ticks)  # a new process counts from its first sample
                last[pid] = ticks
            rss = sum(_rss(pid) for pid in mine)
            if rss > self.peak_rss:
                self.peak_rss = rss
                self.peak_pss = max(self.peak_pss, sum(_pss(pid) for pid in mine))
            if self._halt.wait(self.interval_s):
                return

    def stop(self) -> tuple[int, int, float]:
        """Stop sampling; (peak RSS, peak PSS) in bytes and the cores other processes used on average."""
        self._halt.set()
        self.join()
        elapsed = time.perf_counter() - self._began
        return self.peak_rss, self.peak_pss, self.other_ticks / os.sysconf("SC_CLK_TCK") / elapsed


def seed(admin: AdminClient, app: AppContext, count: int, offset: int, per_login: int = 1,
         variant: str = "new") -> list[int]:
    """`count` fresh units, `per_login` installations (units) under each portal login."""
    ids = []
    for n in range(offset, offset + count):
        installation = f"32{n:08d}"
        first = n - (n - offset) % per_login  # the first unit of this login names it
        document = f"{first + 123456:09d}"
        document = document + _cpf_digits(document)
        if n == first:
            admin.add_customer(name=f"Cliente {first}", document=document, email=f"c{first}@example.com",
                               password=f"Senha-{first}!", scenario={"variant": variant})
        admin.add_installation(document, installation)
        with session_scope(app.engine) as session:
            ids.append(create_unit(session=session, keys=app.keys(), inbox=app.inbox_policy, unit_in=UnitCreate(
                installation=installation, client_name=f"Cliente {first}", holder_document=document,
                portal_login=document, portal_password=f"Senha-{first}!")).id)
    return ids


def _cpf_digits(base: str) -> str:
    digits = [int(c) for c in base]
    for weights in (range(10, 1, -1), range(11, 1, -1)):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return "".join(map(str, digits[-2:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=24, help="units per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--units-per-login", type=int, default=1,
                        help="installations under each portal login (1: every unit has its own login)")
    parser.add_argument("--no-trace-snapshots", action="store_true",
                        help="traces without DOM snapshots and network log ([tracing] snapshots = false)")
    parser.add_argument("--variant", default="new", choices=["new", "legacy", "agv", "spa", "mui"],
                        help="the simulator's page family every customer gets")
    args = parser.parse_args()

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="faturas-bench-") as tmp:
        work = Path(tmp)
        simulator = subprocess.Popen([sys.executable, "-m", "simulator.cli", "serve", "--port", str(port),
                                      "--admin-token", TOKEN], cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    httpx.get(url + "/Login", timeout=1.0)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            config = (ROOT / "playwright.config").read_text().replace(
                'base_url = "https://atende.cemig.com.br"', f'base_url = "{url}"')
            if args.no_trace_snapshots:
                config = config.replace("snapshots = true", "snapshots = false")  # the file sets it: override
            (work / "playwright.config").write_text(config)
            settings = load_settings({"HOME": str(work), "FATURAS_DATA_DIR": str(work / "data"),
                                      "FATURAS_SECRET_KEYS": new_key(), "FATURAS_LOG_LEVEL": "warning",
                                      "FATURAS_LOG_FORMAT": "json",
                                      "FATURAS_PLAYWRIGHT_CONFIG": str(work / "playwright.config")})
            from config.logs import configure_logging

            configure_logging(fmt="json", level="warning")
            app = AppContext(settings=settings)
            print(f"machine: {os.cpu_count()} cores; simulator in its own process at {url}")
            print(f"family: {args.variant}; units per portal login: {args.units_per_login}; trace snapshots: "
                  f"{'off' if args.no_trace_snapshots else 'on'}")
            print("concurrency  units  median_s  p90_s  units_per_min  peak_rss_mb  peak_pss_mb  load_before  "
                  "load_after  others_cores")
            offset = 0
            with AdminClient(url, TOKEN) as admin:
                admin.set_scenario({"variant": args.variant})
                for concurrency in args.concurrency:
                    ids = seed(admin, app, args.units, offset, max(1, args.units_per_login), args.variant)
                    offset += args.units
                    load_before = os.getloadavg()[0]
                    sampler = PeakSampler(exclude={simulator.pid})
                    sampler.start()
                    started = time.perf_counter()
                    outcomes = asyncio.run(adhere_units(app, ids, AdhesionOptions(concurrency=concurrency,
                                                                                  backoff_s=0.5)))
                    elapsed = time.perf_counter() - started
                    peak_rss, peak_pss, others = sampler.stop()
                    failed = [o for o in outcomes if o.failed]
                    with session_scope(app.engine) as session:
                        durations = sorted((a.finished_at - a.started_at).total_seconds()
                                           for i in ids for a in attempts_of(session=session, unit_id=i))
                    p90 = durations[int(0.9 * (len(durations) - 1))]
                    print(f"{concurrency:>11}  {len(ids):>5}  {statistics.median(durations):>8.2f}  {p90:>5.2f}  "
                          f"{len(ids) / elapsed * 60:>13.1f}  {peak_rss / 2**20:>11.0f}  {peak_pss / 2**20:>11.0f}  "
                          f"{load_before:>11.2f}  {os.getloadavg()[0]:>10.2f}  {others:>12.2f}"
                          + (f"  ({len(failed)} failed)" if failed else ""))
            app.close()
        finally:
            simulator.terminate()
            simulator.wait(timeout=10)


if __name__ == "__main__":
    main()
