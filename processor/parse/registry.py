"""The explicit registry of bill parsers: utility id → parser (text in, Bill out)."""

from __future__ import annotations

from collections.abc import Callable

from processor.parse.cemig import parse_cemig
from processor.parse.schema import Bill

PARSERS: dict[str, Callable[[str], Bill]] = {"cemig": parse_cemig}
