"""Scan- and photo-like copies of a PDF bill, for the OCR tests: rasterised, rotated, blurred, JPEG-grained.

The page is rasterised by poppler's `pdftoppm` (as a flatbed scan at `DPI`), then Pillow imitates a phone
photo: a rotation of a few degrees on a grey background, a Gaussian blur (focus) and a JPEG re-encoding at low
quality (noise and blocks). The result is a JPEG, a PNG, or an image-only PDF (no text layer).
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from PIL import Image, ImageFilter

DPI = 300
ANGLES = (-3.0, -2.0, -1.0, 1.5, 2.5, 3.0)


def rasterise(pdf: Path, folder: Path, *, dpi: int = DPI) -> Image.Image:
    """The first page of `pdf` as a greyscale image, by pdftoppm."""
    stem = folder / pdf.stem
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(stem)], check=True, capture_output=True, timeout=60)
    with Image.open(f"{stem}.png") as image:
        return image.copy()


def photo_like(page: Image.Image, *, angle: float, blur: float = 1.0, quality: int = 50) -> bytes:
    """JPEG bytes of `page` rotated by `angle` degrees, blurred and re-encoded at `quality`."""
    tilted = page.convert("L").rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=200)
    out = io.BytesIO()
    tilted.filter(ImageFilter.GaussianBlur(blur)).save(out, "JPEG", quality=quality)
    return out.getvalue()


def as_png(jpeg: bytes) -> bytes:
    out = io.BytesIO()
    with Image.open(io.BytesIO(jpeg)) as image:
        image.save(out, "PNG")
    return out.getvalue()


def image_only_pdf(jpeg: bytes) -> bytes:
    """A one-page PDF holding only the image: what a scanner or a phone's "save as PDF" writes."""
    out = io.BytesIO()
    with Image.open(io.BytesIO(jpeg)) as image:
        image.save(out, "PDF", resolution=DPI)
    return out.getvalue()
