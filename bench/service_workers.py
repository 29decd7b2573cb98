"""Mail throughput of `faturas run` with 1, 2 and 3 workers on PostgreSQL, through Dovecot and SMTP.

    .venv/bin/python bench/service_workers.py --bills 600 --workers 1 2 3 [--repeat 5]
    .venv/bin/python bench/service_workers.py --workers 1 2 --repeat 5 --blobs database --separate-folders

For each worker count: a fresh PostgreSQL database, `--bills` bill e-mails delivered to a real Dovecot
and parked in a Staging folder, N `faturas run` processes started together and registered (their
start-up is printed apart: it is paid once per process, not per bill), then every bill moved into INBOX
with one UID MOVE; the clock runs from that move until every bill is stored, forwarded (counted at the
SMTP server) and its message settled; `--arrival live` delivers over LMTP during the run instead. Rounds
over the worker counts are interleaved (`--repeat`) and medians compared: this machine's speed drifts.
Prints bills/s and the speed-up over one worker (target on this 2-core machine: 2 workers ≥ 1.6× one), and the
transactions committed in the database per bill (workers and the bench's own polling, from pg_stat_database).
`--blobs database` keeps every blob in PostgreSQL; with `--separate-folders` each worker gets its own data
folder, so nothing is shared but PostgreSQL (the production layout of issue 19). Must run as root (Dovecot's
users).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cpu_split  # noqa: E402 - bench/cpu_split.py beside this file
from sqlalchemy import text  # noqa: E402
from sqlmodel import func, select  # noqa: E402

from config.logs import configure_logging  # noqa: E402
from storage import migrate  # noqa: E402
from storage.blob_models import StoredBlob  # noqa: E402
from storage.engine import make_engine, session_scope  # noqa: E402
from storage.mail_models import Forward, MailMessage  # noqa: E402
from storage.models import Worker  # noqa: E402
from storage.secrets import KeyRing, new_key  # noqa: E402
from storage.units import create_unit  # noqa: E402
from tests.conftest import POSTGRES_URL, PostgresServer  # noqa: E402
from tests.factories import unit_in  # noqa: E402
from tests.processor.conftest import INBOX_POLICY, PASSWORD, USER  # noqa: E402
from tests.processor.mime import bill_message  # noqa: E402
from tests.servers.dovecot import Dovecot  # noqa: E402
from tests.servers.smtp import SmtpServer  # noqa: E402

UNITS = 50
STAGING = "Staging"


def run_once(workers: int, messages: list[bytes], dovecot: Dovecot, smtp: SmtpServer, pg: PostgresServer,
             work: Path, logs: Path | None, arrival: str, blobs: str = "file",
             separate_folders: bool = False, extra_env: dict[str, str] | None = None,
             ) -> tuple[float, float, float, float, dict[str, float]]:
    dovecot.reset()
    smtp.clear()
    if arrival == "staged":  # delivered now, out of the workers' sight, and moved into INBOX at the start
        dovecot.deliver_many(USER, messages)
        with dovecot.mailbox(USER) as box:
            box.folder.create(STAGING)
            box.folder.set("INBOX")
            box.move(box.uids("ALL"), STAGING)
    url = pg.create_database()
    engine = make_engine(url)
    migrate.upgrade(engine)
    key = new_key()
    with session_scope(engine) as session:
        for n in range(1, UNITS + 1):
            unit = create_unit(session=session, unit_in=unit_in(n), keys=KeyRing((key,)), inbox=INBOX_POLICY)
            unit.inbox_address = f"uc-30{n:08d}-bench@faturas.example.com"
            unit.adhesion_status = "verified"
            session.add(unit)
    env = {"PATH": os.environ["PATH"], "HOME": str(work), "FATURAS_DATA_DIR": str(work / f"data-{workers}"),
           "FATURAS_DATABASE_URL": url, "FATURAS_SECRET_KEYS": key, "FATURAS_LOG_FORMAT": "json",
           "FATURAS_LOG_LEVEL": "info" if logs else "warning", "FATURAS_IMAP_HOST": dovecot.host,
           "FATURAS_IMAP_PORT": str(dovecot.imap_port), "FATURAS_IMAP_TLS": "none", "FATURAS_IMAP_USER": USER,
           "FATURAS_IMAP_PASSWORD": PASSWORD, "FATURAS_SMTP_HOST": smtp.host, "FATURAS_SMTP_PORT": str(smtp.port),
           "FATURAS_SMTP_TLS": "none", "FATURAS_DKIM_POLICY": "off", "FATURAS_MAIL_POLL_INTERVAL_S": "1",
           "FATURAS_OUTBOX_INTERVAL_S": "1", "FATURAS_ADHESION_INTERVAL_S": "3600",
           "FATURAS_BLOBS_BACKEND": blobs, **(extra_env or {})}
    launched = time.monotonic()
    outputs = [(logs / f"workers-{workers}-{n}.jsonl").open("wb") if logs else subprocess.DEVNULL
               for n in range(workers)]

    def worker_env(n: int) -> dict[str, str]:
        if not separate_folders:
            return env
        return {**env, "FATURAS_DATA_DIR": str(work / f"data-{workers}-{n}")}

    commits_before = _commits(engine)
    processes = [subprocess.Popen([sys.executable, "-m", "cli", "run"], env=worker_env(n), cwd=ROOT,
                                  stdout=out, stderr=out) for n, out in enumerate(outputs)]
    total = len(messages)
    try:
        while True:  # every worker up and registered, the mailbox still empty: start-up is not throughput
            with session_scope(engine) as session:
                if session.exec(select(func.count()).select_from(Worker)).one() >= workers:
                    break
            if time.monotonic() - launched > 120 or any(p.poll() is not None for p in processes):
                raise SystemExit(f"{workers} worker(s) did not start")
            time.sleep(0.2)
        started = time.monotonic()
        bench_cpu = time.process_time()
        cpu_before = cpu_split.snapshot([p.pid for p in processes])
        if arrival == "staged":
            with dovecot.mailbox(USER) as box:
                box.folder.set(STAGING)
                box.move(box.uids("ALL"), "INBOX")  # one UID MOVE: every bill there at once
        else:
            dovecot.deliver_many(USER, messages)  # delivered one by one while the workers run
        while True:
            with session_scope(engine) as session:
                sent = session.exec(select(func.count()).select_from(Forward)
                                    .where(Forward.status == "sent")).one()
                settled = session.exec(select(func.count()).select_from(MailMessage)
                                       .where(MailMessage.settled_at.is_not(None))).one()
            if sent >= total and settled >= total:
                break
            if time.monotonic() - started > 1800:
                raise SystemExit(f"{workers} worker(s): not done after 30 min ({sent} sent, {settled} settled)")
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        split = cpu_split.since(cpu_before, cpu_split.snapshot([p.pid for p in processes]))
        startup = started - launched
        bench_cpu = time.process_time() - bench_cpu
        if blobs == "database":  # the PDFs really went to the database, not to a worker's folder
            with session_scope(engine) as session:
                stored = session.exec(select(func.count()).select_from(StoredBlob)).one()
            if stored < total:
                raise SystemExit(f"{workers} worker(s): {stored} blobs in the database for {total} bills")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        for out in outputs:
            if out is not subprocess.DEVNULL:
                out.close()
        commits = _commits(engine) - commits_before
        engine.dispose()
    return startup, elapsed, bench_cpu, commits / total, split


def _commits(engine) -> int:  # noqa: ANN001 - a SQLAlchemy engine
    """Transactions committed in the bench's database so far (PostgreSQL's statistics, flushed at backend exit)."""
    time.sleep(1.1)  # a backend flushes its counters at most once a second, and at exit
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_stat_clear_snapshot()"))
        return connection.execute(text("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
                                       )).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=600)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--arrival", choices=("staged", "live"), default="staged",
                        help="staged: every bill moved into INBOX at once when the workers are up (the clock then "
                             "measures processing alone); live: delivered over LMTP while they run")
    parser.add_argument("--repeat", type=int, default=1, help="rounds over the worker counts; medians are compared")
    parser.add_argument("--blobs", choices=("file", "database"), default="file",
                        help="where the workers keep PDFs and artifacts (FATURAS_BLOBS_BACKEND)")
    parser.add_argument("--separate-folders", action="store_true",
                        help="one data folder per worker: nothing shared but PostgreSQL (use with --blobs database)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="an extra setting for the workers (FATURAS_MAIL_IDLE=false, say); repeatable")
    parser.add_argument("--logs", type=Path, default=None,
                        help="keep each worker's JSON log (level info) in this folder, to see who did what")
    args = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in args.env)
    if args.separate_folders and args.blobs == "file":
        parser.error("--separate-folders needs a shared blob backend: add --blobs database")
    configure_logging(fmt="json", level="warning")
    months = max(1, args.bills // UNITS)
    cycles = [f"{2024 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(1, months + 1)]
    messages = [bill_message(f"uc-30{n:08d}-bench@faturas.example.com", f"30{n:08d}", cycle)
                for cycle in cycles for n in range(1, UNITS + 1)]
    dovecot = Dovecot.start({USER: PASSWORD})
    smtp = SmtpServer().start()
    pg = PostgresServer(POSTGRES_URL)
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"faturas-bench-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    try:
        print(f"machine: {os.cpu_count()} cores; {len(messages)} bills for {UNITS} units; PostgreSQL; "
              f"blobs {args.blobs}; {'one data folder per worker' if args.separate_folders else 'one data folder'}")
        print("round  workers  startup_s  seconds  bills_per_s  bench_cpu_s  commits_per_bill  "
              "cpu_ms_per_bill: workers postgres dovecot bench other | idle iowait")
        rates: dict[int, list[float]] = {n: [] for n in args.workers}
        for round_ in range(1, args.repeat + 1):  # interleaved: this machine's speed drifts within minutes
            for workers in args.workers:
                startup, seconds, bench_cpu, commits, split = run_once(
                    workers, messages, dovecot, smtp, pg, work, args.logs, args.arrival, args.blobs,
                    args.separate_folders, extra_env)
                rates[workers].append(len(messages) / seconds)
                print(f"{round_:>5}  {workers:>7}  {startup:>9.1f}  {seconds:>7.1f}  {rates[workers][-1]:>11.1f}  "
                      f"{bench_cpu:>11.1f}  {commits:>16.1f}  "
                      + " ".join("|" if role == "|" else f"{1000 * split[role] / len(messages):.1f}"
                                 for role in ("workers", "postgres", "dovecot", "bench", "other", "|", "idle",
                                              "iowait")), flush=True)
        base = statistics.median(rates[args.workers[0]])
        print("workers  median_bills_per_s  speedup")
        for workers in args.workers:
            rate = statistics.median(rates[workers])
            print(f"{workers:>7}  {rate:>18.1f}  {rate / base:>7.2f}")
    finally:
        smtp.stop()
        dovecot.stop()
        pg.drop_all()


if __name__ == "__main__":
    main()
