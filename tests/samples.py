"""Where the real CEMIG sample bills are. They are never committed: tests that need them skip, naming the path.

`FATURAS_SAMPLES_DIR` when set, else `../shared/samples/cemig` beside the checkout (the team's layout);
`.ci/run` points the variable at the shared folder when its clone lives elsewhere. The 2026 bills are in
`cemig-2026` beside that folder (`SAMPLES_2026`).
"""

from __future__ import annotations

import os
from pathlib import Path

SAMPLES = Path(os.environ.get("FATURAS_SAMPLES_DIR")
               or Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "cemig")
SAMPLES_2026 = SAMPLES.parent / "cemig-2026"
"""Real bills of 2026 (the DANF3E keyed by the UC code), beside `SAMPLES`."""
SAMPLE_DIRS = (SAMPLES, SAMPLES_2026)


def sample_path(stem: str) -> Path:
    """The sample PDF called `stem` in whichever sample folder holds it (the 2024 one when neither does)."""
    for folder in SAMPLE_DIRS:
        if (folder / f"{stem}.pdf").is_file():
            return folder / f"{stem}.pdf"
    return SAMPLES / f"{stem}.pdf"
