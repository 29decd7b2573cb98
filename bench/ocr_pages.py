"""OCR seconds per page on photo-like copies of the real CEMIG samples (the scan/photo path of the parser).

Each sample's first page is rasterised by pdftoppm at 300 dpi, tilted a few degrees, blurred and re-encoded
as a JPEG at quality 50 (as tests/processor/parse/photos.py does), wrapped in an image-only PDF, and read by
``processor.parse.ocr.ocr_pdf`` + ``ocr_fields.read_ocr_bill``: extraction of the embedded image, cleaning
and deskew, Tesseract (``por``, one thread). Rasterising and degrading are off the clock. Prints seconds per
page (median, min, max), the share spent in cleaning + deskew, and how many bills gave the four key fields
(installation or UC, reference month, due date, amount) equal to the text-layer parse.

    .venv/bin/python bench/ocr_pages.py [--limit 10] [--samples ../shared/samples]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageFilter  # noqa: E402

from processor.parse import ocr  # noqa: E402
from processor.parse.cemig import parse_cemig  # noqa: E402
from processor.parse.ocr_fields import read_ocr_bill  # noqa: E402
from processor.parse.text import pdf_text  # noqa: E402

ANGLES = (-3.0, -2.0, -1.0, 1.5, 2.5, 3.0)
EDITED = {"fatura_cemig", "fatura_cemig_convencional"}  # values overlaid by hand: text and picture disagree


def photo_pdf(pdf: Path, angle: float, folder: Path) -> bytes:
    stem = folder / pdf.stem
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", "-singlefile", "-f", "1", "-l", "1", str(pdf),
                    str(stem)], check=True, capture_output=True)
    with Image.open(f"{stem}.png") as page:
        tilted = page.convert("L").rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=200)
    jpeg = io.BytesIO()
    tilted.filter(ImageFilter.GaussianBlur(1.0)).save(jpeg, "JPEG", quality=50)
    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg.getvalue())).save(out, "PDF", resolution=300)
    return out.getvalue()


def key(bill) -> tuple:  # noqa: ANN001
    return (bill.installation or bill.uc_code, bill.reference_month, bill.due_date, bill.amount_due)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=0, help="only the first N samples (0: all)")
    parser.add_argument("--samples", type=Path, default=ROOT.parent / "shared" / "samples")
    args = parser.parse_args()
    paths = sorted(p for p in args.samples.glob("*/*.pdf") if p.stem not in EDITED)
    if args.limit:
        paths = paths[: args.limit]
    if not paths:
        sys.exit(f"no PDFs under {args.samples}")
    print(f"{len(paths)} bills from {args.samples}; tesseract {ocr.pytesseract.get_tesseract_version()}, "
          f"OMP_THREAD_LIMIT=1, os.cpu_count()={os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    seconds, cleaning, cpu, right = [], [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for index, path in enumerate(paths):
            data = photo_pdf(path, ANGLES[index % len(ANGLES)], Path(tmp))
            truth = key(parse_cemig(pdf_text(path.read_bytes())))
            t0 = time.perf_counter()
            images = ocr.render_pages(data)
            t1 = time.perf_counter()
            ocr.prepare(images[0])
            t2 = time.perf_counter()
            before = os.times()
            bill = read_ocr_bill(ocr.ocr_images(images))  # prepares again: timed as a whole read below
            after = os.times()
            t3 = time.perf_counter()
            # CPU of this process and of the Tesseract child: the page's cost whatever else shares the core.
            cpu.append(sum(after[:4]) - sum(before[:4]))
            total = (t1 - t0) + (t3 - t2)
            seconds.append(total)
            cleaning.append(t2 - t1)
            right += key(bill) == truth
            verdict = "ok" if key(bill) == truth else f"WRONG {key(bill)}"
            print(f"  {path.stem:<22} {total:6.2f} s {cpu[-1]:5.2f} CPU-s  {verdict}")
    print(f"OCR s/page: median {statistics.median(seconds):.2f}, min {min(seconds):.2f}, max {max(seconds):.2f}; "
          f"cleaning+deskew median {statistics.median(cleaning):.2f} s; "
          f"CPU s/page median {statistics.median(cpu):.2f}; "
          f"key fields right {right}/{len(paths)}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
