"""A flate-bomb PDF, and a child that reads it through `read_pdfs` and prints its own peak RSS.

`python -m tests.processor.bomb PDF LIMIT_MB` prints one JSON line: the outcome of reading the PDF as
the mail and upload paths do, and the peak resident size of that process (the child that reads the PDF
under processor.isolate is not counted: it is what may grow, and be killed).
"""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path
from types import SimpleNamespace


def flate_bomb(megabytes: int) -> bytes:
    """A zlib stream of `megabytes` MiB of zeros, built from repeated blocks (~1 KiB per MiB, in a second)."""
    chunk = b"\0" * (1 << 20)
    compressor = zlib.compressobj(9)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)  # the same after a full flush
    adler = 1
    for _ in range(megabytes):
        adler = zlib.adler32(chunk, adler)
    return first + block * (megabytes - 1) + b"\x03\x00" + adler.to_bytes(4, "big")


def bomb_pdf(megabytes: int = 2048) -> bytes:
    """A one-page PDF whose content stream inflates to `megabytes` MiB."""
    stream = flate_bomb(megabytes)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _peak_rss_kib() -> int:
    """This process image's peak RSS (VmHWM). Not getrusage's ru_maxrss: Linux carries that across exec, so
    a child of a big test process would report its parent's peak."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main(pdf_path: str, limit_mb: str) -> int:
    from processor.config import MailSettings
    from processor.pipeline import read_pdfs
    from processor.types import PdfPart
    from storage.models import Unit

    settings = MailSettings(pdf_memory_limit_mb=int(limit_mb), pdf_timeout_s=60)
    pipeline = SimpleNamespace(settings=settings, keys=None, on_secret=None)
    unit = Unit(id=1, installation="3000055479", client_name="X", holder_document="52998224725",
                inbox_address="uc@faturas.example.com")
    bills, failures = read_pdfs(pipeline, unit, [PdfPart(filename="bomba.pdf", data=Path(pdf_path).read_bytes())])
    print(json.dumps({"bills": len(bills), "failures": [[type(f).__name__, f.stage.value, str(f)] for f in failures],  # noqa: T201
                      "peak_rss_mb": _peak_rss_kib() // 1024}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
