"""The explicit registry of utility flows."""

from __future__ import annotations

from flows.base import UtilityFlow
from flows.cemig.flow import CemigFlow

FLOWS: dict[str, type[UtilityFlow]] = {"cemig": CemigFlow}
