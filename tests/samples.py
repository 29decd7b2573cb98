"""Where the real CEMIG sample bills are. They are never committed: tests that need them skip, naming the path.

`FATURAS_SAMPLES_DIR` when set, else `../shared/samples/cemig` beside the checkout (the team's layout);
`.ci/run` points the variable at the shared folder when its clone lives elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

SAMPLES = Path(os.environ.get("FATURAS_SAMPLES_DIR")
               or Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "cemig")
