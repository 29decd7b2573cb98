"""How much a second process adds on this machine: the ceiling for any "N workers vs one" figure.

    .venv/bin/python bench/cpu_scaling.py [--processes 1 2] [--repeat 5]

Runs a fixed amount of CPU-bound work in 1, then 2 (…) processes at once and prints the aggregate
throughput and its ratio to one process. Two workloads: `bills` reads the text of generated CEMIG bills
and parses them (pypdfium2 + our parser: the heaviest part of a mail worker), `python` is a plain
interpreter loop. On a machine with two real cores both ratios are close to 2.0; a lower figure means
the vCPUs share a physical core (or the host is oversubscribed), and no pool of CPU-bound workers can
scale past it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BILLS = 40
LOOPS = 6_000_000


def _bills(pdfs: list[bytes], rounds: int) -> int:
    from processor.parse.cemig import parse_cemig
    from processor.parse.text import pdf_text

    for _ in range(rounds):
        for data in pdfs:
            parse_cemig(pdf_text(data))
    return rounds * len(pdfs)


def _python(loops: int) -> int:
    total = 0
    for i in range(loops):
        total += i * i % 7
    return loops


def _pdfs() -> list[bytes]:
    from tests.processor.mime import bill

    return [bill(f"30{n:08d}", "2026-10", seed=n).pdf for n in range(1, BILLS + 1)]


def _worker(workload: str, pdfs: list[bytes], start: multiprocessing.synchronize.Event, out) -> None:  # noqa: ANN001
    start.wait()
    done = _bills(pdfs, 5) if workload == "bills" else _python(LOOPS)
    out.put(done)


def measure(workload: str, processes: int, pdfs: list[bytes]) -> float:
    """Units of work per second with `processes` processes each doing the same fixed amount at once."""
    start = multiprocessing.Event()
    out: multiprocessing.Queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_worker, args=(workload, pdfs, start, out)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    time.sleep(1.0)  # every process imported and waiting
    began = time.perf_counter()
    start.set()
    done = sum(out.get() for _ in workers)
    elapsed = time.perf_counter() - began
    for worker in workers:
        worker.join()
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    multiprocessing.set_start_method("fork")
    pdfs = _pdfs()
    print(f"machine: {multiprocessing.cpu_count()} CPUs; median of {args.repeat} interleaved runs")
    print("workload  processes  work_per_s  ratio_to_one")
    for workload in ("bills", "python"):
        rates: dict[int, list[float]] = {n: [] for n in args.processes}
        for _ in range(args.repeat):  # interleaved: this machine's speed drifts by a quarter within minutes
            for processes in args.processes:
                rates[processes].append(measure(workload, processes, pdfs))
        base = statistics.median(rates[args.processes[0]])
        for processes in args.processes:
            rate = statistics.median(rates[processes])
            print(f"{workload:<8}  {processes:>9}  {rate:>10.1f}  {rate / base:>12.2f}", flush=True)


if __name__ == "__main__":
    main()
