"""Bill parse throughput on the real CEMIG samples: text extraction + parse_cemig, on one core.

Compares the project's extractor (pypdfium2, ``processor.parse.text.pdf_text``) with pypdf's
``extract_text`` and pdfplumber's ``extract_text`` feeding the same parser. pdfplumber is not a project
dependency: install it in the virtualenv to include it (``.venv/bin/pip install pdfplumber``).

    .venv/bin/python bench/parse_bills.py [--rounds 5] [--samples ../shared/samples/cemig]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from processor.parse.cemig import parse_cemig  # noqa: E402
from processor.parse.checks import checks_passed  # noqa: E402
from processor.parse.errors import BillError  # noqa: E402
from processor.parse.text import pdf_text  # noqa: E402


def pypdfium2_text(data: bytes) -> str:
    return pdf_text(data)


def pypdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pdfplumber_text(data: bytes) -> str:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


EXTRACTORS: dict[str, Callable[[bytes], str]] = {
    "pypdfium2": pypdfium2_text,
    "pypdf": pypdf_text,
    "pdfplumber": pdfplumber_text,
}


def available(name: str) -> bool:
    if name != "pdfplumber":
        return True
    try:
        import pdfplumber  # noqa: F401
    except ImportError:
        return False
    return True


def run_once(extract: Callable[[bytes], str], pdfs: list[bytes]) -> tuple[float, float, int, float]:
    """Seconds for extraction, seconds for parsing, how many bills passed every check, and CPU seconds.

    The CPU seconds (this process's user + system time) are what the bills cost when other work shares the
    core: on a loaded machine the wall-clock rate falls with the load, the CPU-time rate much less.
    """
    extract_s = parse_s = 0.0
    passed = 0
    cpu_start = time.process_time()
    for data in pdfs:
        t0 = time.perf_counter()
        text = extract(data)
        t1 = time.perf_counter()
        try:
            bill = parse_cemig(text)
        except BillError:
            bill = None
        t2 = time.perf_counter()
        extract_s += t1 - t0
        parse_s += t2 - t1
        passed += bill is not None and checks_passed(bill)
    return extract_s, parse_s, passed, time.process_time() - cpu_start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds over all samples (median kept)")
    parser.add_argument("--samples", type=Path, default=ROOT.parent / "shared" / "samples" / "cemig")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU")
    args = parser.parse_args()

    paths = sorted(args.samples.glob("*.pdf"))
    if not paths:
        sys.exit(f"no PDFs in {args.samples}")
    pdfs = [path.read_bytes() for path in paths]
    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"{len(pdfs)} bills from {args.samples}, {args.rounds} rounds (median), CPUs in use: {cpus}")
    print(f"python {sys.version.split()[0]}, os.cpu_count()={os.cpu_count()}")

    results: dict[str, float] = {}
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = (f"{'extractor':<11} {'bills/s':>9} {'ms/bill':>8} {'extract ms':>11} {'parse ms':>9} {'checks ok':>10}"
              f" {'bills/CPU-s':>12}")
    print(header)
    print("-" * len(header))
    for name, extract in EXTRACTORS.items():
        if not available(name):
            print(f"{name:<11} skipped: not installed")
            continue
        run_once(extract, pdfs)  # warm-up: imports, caches
        rounds = [run_once(extract, pdfs) for _ in range(args.rounds)]
        extract_s = statistics.median(r[0] for r in rounds)
        parse_s = statistics.median(r[1] for r in rounds)
        total = statistics.median(r[0] + r[1] for r in rounds)
        cpu = statistics.median(r[3] for r in rounds)
        rate = len(pdfs) / total
        results[name] = rate
        print(
            f"{name:<11} {rate:>9.1f} {1000 * total / len(pdfs):>8.2f} {1000 * extract_s / len(pdfs):>11.2f}"
            f" {1000 * parse_s / len(pdfs):>9.3f} {rounds[-1][2]:>6}/{len(pdfs)} {len(pdfs) / cpu:>12.1f}"
        )
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if "pypdfium2" in results:
        for other in ("pypdf", "pdfplumber"):
            if other in results:
                print(f"pypdfium2 is {results['pypdfium2'] / results[other]:.1f}x faster than {other}")


if __name__ == "__main__":
    main()
