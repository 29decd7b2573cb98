"""Re-exported variants of a PDF: the same bill written by other PDF producers available on Debian.

Integrators upload bills that went through a viewer's "print to PDF", Ghostscript, a linearizer or a PDF
cleaner: the text layer's geometry, fonts and content-stream order change while the page looks the same.
Each producer here is a command line (poppler-utils, ghostscript, qpdf, mupdf-tools; see scripts/setup).
`mutool convert` is left out on purpose: it re-encodes the fonts without their Unicode map (``Elétrica``
comes back as ``ElÏtrica``), so its text is not the bill's any more: that output is a case for OCR.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

Producer = Callable[[Path, Path], None]


def _run(*args: str | Path) -> None:
    subprocess.run([str(a) for a in args], check=True, capture_output=True, timeout=60)


def _cairo(source: Path, target: Path) -> None:
    _run("pdftocairo", "-pdf", source, target)


def _ghostscript(source: Path, target: Path) -> None:
    _run("gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite", f"-sOutputFile={target}", source)


def _qpdf(source: Path, target: Path) -> None:
    _run("qpdf", "--linearize", "--recompress-flate", "--object-streams=generate", source, target)


def _mutool_clean(source: Path, target: Path) -> None:
    _run("mutool", "clean", "-gggz", source, target)


def _postscript(source: Path, target: Path) -> None:
    """Printed to PostScript by poppler and distilled back by Ghostscript: the "print to PDF" route."""
    ps = target.with_suffix(".ps")
    _run("pdftops", source, ps)
    _run("ps2pdf", ps, target)
    ps.unlink()


PRODUCERS: dict[str, Producer] = {
    "pdftocairo": _cairo,
    "ghostscript": _ghostscript,
    "qpdf": _qpdf,
    "mutool-clean": _mutool_clean,
    "pdftops-ps2pdf": _postscript,
}
TOOLS = {"pdftocairo": ("pdftocairo",), "ghostscript": ("gs",), "qpdf": ("qpdf",), "mutool-clean": ("mutool",),
         "pdftops-ps2pdf": ("pdftops", "ps2pdf")}


def missing_tools() -> list[str]:
    """The producers' programs not installed here (scripts/setup installs them)."""
    return [tool for tools in TOOLS.values() for tool in tools if shutil.which(tool) is None]


def variant(source: Path, producer: str, folder: Path) -> Path:
    """`source` re-written by `producer` into `folder` (made once: an existing file is reused)."""
    target = folder / f"{source.stem}.{producer}.pdf"
    if not target.exists():
        PRODUCERS[producer](source, target)
    return target
