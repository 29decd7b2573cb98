"""Bill generation throughput: ``generate_bill`` for 200 bills (no assertions), on one core.

Three timings: 200 distinct installations for one cycle (cold caches: each bill walks its
installation's history from the epoch), one installation over 200 consecutive cycles (the walk is
repeated per bill), and the same 200 installations with an AES-256 PDF password.

    .venv/bin/python bench/generate_bills.py [--bills 200] [--cycle 2026-11]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.bills.generator import generate_bill  # noqa: E402
from simulator.bills.model import EPOCH, from_index, month_index  # noqa: E402
from simulator.bills.profile import InstallationProfile  # noqa: E402


def profiles(count: int) -> list[InstallationProfile]:
    classes = [
        ("Residencial", "Residencial", "bifasico"),
        ("Comercial", "Outros serviços e outras atividades", "trifasico"),
        ("Residencial", "Residencial", "monofasico"),
    ]
    result = []
    for i in range(count):
        tariff_class, subclass, supply = classes[i % 3]
        result.append(
            InstallationProfile(
                installation=f"30{i:08d}",
                customer_number=f"70{i:08d}",
                holder_name=f"CLIENTE FICTICIO {i:03d}",
                holder_document=f"{i:011d}",
                address_lines=(f"RUA EXEMPLO {i}", "CENTRO", "30100-000 BELO HORIZONTE, MG"),
                supply_type=supply,
                tariff_class=tariff_class,
                tariff_subclass=subclass,
                has_generation=i % 4 != 0,
                email=f"uc-{i}@faturas.example.com",
                seed=i,
            )
        )
    return result


def timed(label: str, count: int, run: Callable[[], object]) -> None:
    durations = []
    start = time.perf_counter()
    for _ in range(count):
        t0 = time.perf_counter()
        run()
        durations.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    durations.sort()
    print(
        f"{label:48} {count / total:7.1f} bills/s   median {statistics.median(durations) * 1000:6.1f} ms"
        f"   p95 {durations[int(len(durations) * 0.95) - 1] * 1000:6.1f} ms   max {durations[-1] * 1000:6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=200)
    parser.add_argument("--cycle", default="2026-11")
    args = parser.parse_args()
    many = profiles(args.bills)
    plain = iter(many)
    timed(f"{args.bills} installations, one cycle", args.bills, lambda: generate_bill(next(plain), args.cycle))
    one = replace(many[1], seed=10_001, installation="3099999999")
    year, month = (int(part) for part in args.cycle.split("-"))
    last = month_index(year, month)
    count = min(args.bills, last - month_index(*EPOCH))  # cycles before the model's epoch do not exist
    cycles = iter(range(last - count + 1, last + 1))
    timed(
        f"one installation, {count} consecutive cycles",
        count,
        lambda: generate_bill(one, "{:04d}-{:02d}".format(*from_index(next(cycles)))),
    )
    password = "12345"  # noqa: S105 - a made-up test password
    locked = iter([replace(p, seed=p.seed + 50_000, pdf_password=password) for p in many])
    timed(f"{args.bills} installations, AES-256 password", args.bills, lambda: generate_bill(next(locked), args.cycle))


if __name__ == "__main__":
    main()
