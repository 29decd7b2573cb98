"""PIX QR decode cost per page (processor.pix: PDFium render + zxing-cpp), beside the text path's cost.

Runs on the real 2026 sample(s) and on generated 2026 bills; prints milliseconds per page (median of
rounds) for the text extraction + parse and for the QR decode, which read_bill adds on 2026 layouts only.

    .venv/bin/python bench/pix_decode.py [--rounds 5] [--generated 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from processor.parse.cemig import parse_cemig  # noqa: E402
from processor.parse.text import pdf_text  # noqa: E402
from processor.pix import read_pix_codes  # noqa: E402
from simulator.bills.generator import generate_bill  # noqa: E402
from tests.processor.mime import profile  # noqa: E402


def _per_page(pdfs: list[bytes], step, rounds: int) -> float:  # noqa: ANN001 - a callable on bytes
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for pdf in pdfs:
            step(pdf)
        times.append((time.perf_counter() - start) / len(pdfs))
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--generated", type=int, default=20)
    parser.add_argument("--samples", type=Path, default=ROOT.parent / "shared" / "samples" / "cemig-2026")
    args = parser.parse_args()
    sets = {"real 2026": [p.read_bytes() for p in sorted(args.samples.glob("*.pdf"))],
            "generated 2026": [generate_bill(profile(f"30000000{i:02d}", seed=i), "2026-11").plain_pdf
                               for i in range(args.generated)]}
    for name, pdfs in sets.items():
        if not pdfs:
            print(f"{name}: no PDF found")
            continue
        found = sum(1 for pdf in pdfs if read_pix_codes(pdf)[0])
        text = _per_page(pdfs, lambda pdf: parse_cemig(pdf_text(pdf)), args.rounds)
        qr = _per_page(pdfs, read_pix_codes, args.rounds)
        print(f"{name}: {len(pdfs)} page(s), PIX read on {found}; text+parse {text:.1f} ms/page, "
              f"QR decode {qr:.1f} ms/page")


if __name__ == "__main__":
    main()
