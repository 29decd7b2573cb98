"""Flow tests drive real Chromium against the real simulator."""

from tests.simulator.fixtures import simulator, simulator_server  # noqa: F401
