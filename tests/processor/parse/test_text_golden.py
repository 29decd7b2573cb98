"""Text golden pairs (exported from reviewed bills): the parser reads every field the pair knows.

A pair of a layout the parser does not know yet fails here by design: it is how a developer teaches the
parser a layout from a bill an integrator reviewed (`faturas invoices export-fixture`).
"""

from __future__ import annotations

from pathlib import Path

from processor.parse.registry import PARSERS
from tests.processor.parse.golden_pairs import mismatches, text_pairs, text_stems

GOLDEN = Path(__file__).resolve().parent / "golden"


def test_every_text_pair_in_the_golden_folder_parses_to_its_known_fields():
    pairs = text_pairs(GOLDEN)
    assert [p.stem for p in pairs] == sorted(text_stems(GOLDEN))  # none half-added
    failures = {}
    for pair in pairs:
        parsed = PARSERS[pair.expected.get("utility", "cemig")](pair.text).model_dump(mode="json")
        if found := mismatches(pair, parsed):
            failures[pair.stem] = found
    assert failures == {}
