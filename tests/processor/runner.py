"""A pipeline pass in a child process, for the SIGKILL test: `python -m tests.processor.runner SPEC.json`.

The spec names the database, the blob folder, the mail settings and the DKIM TXT records (the simulator's
key, instead of DNS). Logs go to stdout as JSON lines, unbuffered, so the parent can kill at an event.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from config.logs import configure_logging
from processor.config import MailSettings
from processor.pipeline import Pipeline, poll_once
from storage.blobs import BlobStore
from storage.engine import make_engine
from storage.secrets import KeyRing


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    quiet = os.environ.get("FATURAS_BENCH_QUIET") == "1"
    configure_logging(fmt="json", level="warning" if quiet else "debug", stream=sys.stdout)
    records = spec["dns"]

    def dns_txt(name: bytes, timeout: float = 5) -> bytes | None:
        record = records.get(name.decode("ascii").rstrip("."))
        return record.encode("ascii") if record is not None else None

    engine = make_engine(spec["database_url"])
    pipeline = Pipeline(engine=engine, settings=MailSettings.model_validate(spec["settings"]),
                        blobs=BlobStore(Path(spec["blobs"])), keys=KeyRing(tuple(spec["keys"])), dns_txt=dns_txt)
    started = time.perf_counter()
    report = poll_once(pipeline)
    summary = {"event": "runner_done", "outcomes": report.outcomes, "forwarded": report.forwarded,
               "pass_seconds": round(time.perf_counter() - started, 2)}
    print(json.dumps(summary), flush=True)  # noqa: T201 - the parent reads this line
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
