"""Golden pairs of text: `<stem>.txt` (a bill's text, personal data masked) beside `<stem>.expected.json`.

`faturas invoices export-fixture ID` writes such pairs from reviewed bills. A real sample's golden file has
its PDF in the shared samples folder instead; a stem with a `.txt` is a text pair.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IGNORED = ("layout", "checks", "sources")
"""What a parser that learns the layout decides for itself: its name, its checks, and (empty) sources."""


@dataclass(frozen=True)
class TextPair:
    """One text golden pair."""

    stem: str
    text: str
    expected: dict[str, Any]

    def known(self) -> dict[str, Any]:
        """The expected fields that were read or confirmed (not empty), without the parser's own keys."""
        return {key: value for key, value in self.expected.items()
                if key not in IGNORED and value not in (None, [], {})}


def text_stems(folder: Path) -> set[str]:
    """Stems of the text pairs in `folder`."""
    return {path.name.removesuffix(".txt") for path in folder.glob("*.txt")}


def text_pairs(folder: Path) -> list[TextPair]:
    """Every text pair in `folder`; a `.txt` without its `.expected.json` is an error (a half-added pair)."""
    pairs = []
    for stem in sorted(text_stems(folder)):
        expected = folder / f"{stem}.expected.json"
        assert expected.is_file(), f"{stem}.txt has no {stem}.expected.json beside it"
        pairs.append(TextPair(stem=stem, text=(folder / f"{stem}.txt").read_text(encoding="utf-8"),
                              expected=json.loads(expected.read_text(encoding="utf-8"))))
    return pairs


def mismatches(pair: TextPair, parsed: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Known fields the parse did not reproduce: {field: (parsed, expected)}."""
    return {key: (parsed.get(key), value) for key, value in pair.known().items() if parsed.get(key) != value}
