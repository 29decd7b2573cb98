"""End-to-end mail pipeline throughput and memory: real Dovecot (IMAP, LMTP) and a real SMTP server.

Delivers N CEMIG bill e-mails (synthetic bills from the simulator, DKIM-signed) for `--units` units to
a catch-all Dovecot mailbox, then runs ONE pass (`poll_once`, one worker) in a child process and reports
bills/s (fetch → … → forward → settle, wall clock of the pass) and the child's peak RSS.

    .venv/bin/python bench/mail_pipeline.py --units 100 --cycles 5 [--database postgresql+psycopg://…]
    .venv/bin/python bench/mail_pipeline.py --units 2000 --cycles 5     # 10,000 distinct bills
    .venv/bin/python bench/mail_pipeline.py --units 400 --cycles 5 --copies 5   # 10,000 messages, 2,000 bills

`--database` defaults to a fresh SQLite file; a PostgreSQL URL must point at an empty database.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.logs import configure_logging  # noqa: E402
from storage import migrate  # noqa: E402
from storage.engine import make_engine, session_scope  # noqa: E402
from storage.secrets import KeyRing, new_key  # noqa: E402
from storage.units import InboxPolicy, create_unit  # noqa: E402
from tests.factories import unit_in  # noqa: E402
from tests.processor.mime import bill_message, cemig_key  # noqa: E402
from tests.servers.dovecot import Dovecot  # noqa: E402
from tests.servers.smtp import SmtpServer  # noqa: E402

CYCLES = [f"2025-{m:02d}" for m in range(1, 13)] + [f"2026-{m:02d}" for m in range(1, 13)]


def _address(n: int) -> str:
    return f"uc-30{n:08d}-bench@faturas.example.com"


def _build(args: tuple[int, str, bytes, str]) -> bytes:
    n, cycle, pem, txt = args
    from simulator.mailer import DkimKey

    key = DkimKey("contadigital", "cemig.com.br", pem, txt)
    return bill_message(_address(n), f"30{n:08d}", cycle, key=key)


def deliver(dovecot: Dovecot, units: int, cycles: int, copies: int = 1) -> int:
    """Generate and deliver the bills in chunks (never all in memory), each `copies` times; returns how many."""
    key = cemig_key()
    jobs = [(n, cycle, key.private_key_pem, key.dns_txt) for cycle in CYCLES[:cycles] for n in range(1, units + 1)]
    sent = 0
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for start in range(0, len(jobs), 200):
            messages = list(pool.map(_build, jobs[start:start + 200], chunksize=10))
            for _ in range(copies):  # later copies are the same bills again: stored once, `duplicate`
                dovecot.deliver_many("bills", messages)
                sent += len(messages)
    return sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--database", default=None)
    parser.add_argument("--fetch-batch", type=int, default=50)
    parser.add_argument("--copies", type=int, default=1, help="Deliver every bill this many times.")
    parser.add_argument("--shards", type=int, default=None, help="Inbox shards (default: the setting's default).")
    parser.add_argument("--profile", type=Path, default=None, help="Write a cProfile of the pass here.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="faturas-bench-"))
    url = args.database or f"sqlite:///{work / 'bench.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    configure_logging(fmt="json", level="warning")
    keys = KeyRing((new_key(),))
    policy = InboxPolicy(pattern="uc-{installation}-{token}", domain="faturas.example.com")
    with session_scope(engine) as session:
        for n in range(1, args.units + 1):
            unit = create_unit(session=session, unit_in=unit_in(n), keys=keys, inbox=policy)
            unit.inbox_address = _address(n)
            session.add(unit)
    engine.dispose()
    dovecot = Dovecot.start({"bills": "bench-secret"})
    smtp = SmtpServer().start()
    try:
        t0 = time.perf_counter()
        count = deliver(dovecot, args.units, args.cycles, args.copies)
        print(f"delivered {count} messages in {time.perf_counter() - t0:.1f}s", flush=True)
        settings = {
            "accounts": [{"name": "main", "host": dovecot.host, "port": dovecot.imap_port, "tls": "none",
                          "user": "bills", "password": "bench-secret"}],
            "smtp": {"host": smtp.host, "port": smtp.port}, "from_address": "Faturas <faturas@faturas.example.com>",
            "dkim_policy": "require", "forward_backoff_seconds": 0, "fetch_batch": args.fetch_batch,
        }
        if args.shards:
            settings["shards"] = args.shards
        spec = work / "spec.json"
        spec.write_text(json.dumps({"database_url": url, "settings": settings, "blobs": str(work / "blobs"),
                                    "keys": list(keys.keys),
                                    "dns": {cemig_key().record_name: cemig_key().dns_txt}}))
        env = {**os.environ, "PYTHONPATH": str(ROOT), "FATURAS_BENCH_QUIET": os.environ.get("FATURAS_BENCH_QUIET", "1")}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t1 = time.perf_counter()
        profile = ["-m", "cProfile", "-o", str(args.profile)] if args.profile else []
        command = [sys.executable, *profile, "-m", "tests.processor.runner", str(spec)]
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - t1
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the builder pool's children count too, see below
        peak_kb = usage.ru_maxrss
        summary = next((json.loads(line) for line in result.stdout.splitlines() if "runner_done" in line), None)
        if summary is None:
            print(result.stdout[-3000:], result.stderr[-3000:])
            return 1
        print(json.dumps({"messages": count, "database": url.split(":")[0], "seconds": round(elapsed, 1),
                          "bills_per_second": round(count / elapsed, 1),
                          "pass_seconds": summary.get("pass_seconds"),
                          "bills_per_second_in_pass": round(count / summary["pass_seconds"], 1)
                          if summary.get("pass_seconds") else None,
                          "worker_cpu_seconds": round(usage.ru_utime + usage.ru_stime
                                                      - before.ru_utime - before.ru_stime, 1),
                          "peak_rss_mb": round(peak_kb / 1024, 1),
                          "outcomes": summary["outcomes"], "forwarded": summary["forwarded"],
                          "smtp_received": len(smtp.messages), "mailbox": dovecot.counts("bills")}))
    finally:
        smtp.stop()
        dovecot.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
