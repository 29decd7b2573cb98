"""Fixtures for the simulator's tests (reusable elsewhere: see tests/simulator/fixtures.py)."""

from tests.simulator.fixtures import simulator, simulator_server  # noqa: F401
