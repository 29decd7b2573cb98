"""`faturas simulator …`: the simulator's own Typer app, mounted by the CLI through this package.

Only `sandbox/` (besides tests and `bench/`) imports `simulator/`, so the CLI reaches it from here.
"""

from __future__ import annotations

from simulator.cli import app as simulator_app

__all__ = ["simulator_app"]
