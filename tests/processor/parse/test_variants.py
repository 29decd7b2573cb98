"""Any PDF producer: every real sample re-written by five other producers parses to the same JSON.

The variants are built here (tests/processor/parse/variants.py) from the shared samples, never committed.
"""

from __future__ import annotations

import pytest

from processor.parse.registry import PARSERS
from processor.parse.text import pdf_text
from tests.processor.parse.test_cemig_golden import STEMS, needs_samples, needs_samples_2026
from tests.processor.parse.variants import PRODUCERS, missing_tools, variant
from tests.samples import sample_path


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    assert not missing_tools(), f"PDF producers missing (run scripts/setup): {missing_tools()}"
    return tmp_path_factory.mktemp("variants")


def _json(data: bytes) -> str:
    return PARSERS["cemig"](pdf_text(data)).model_dump_json()


def test_five_producers():
    assert len(PRODUCERS) >= 4


@needs_samples
@needs_samples_2026
@pytest.mark.parametrize("stem", STEMS)
def test_every_variant_parses_like_its_original(stem, folder):
    source = sample_path(stem)
    original = _json(source.read_bytes())
    differing = []
    for producer in PRODUCERS:
        path = variant(source, producer, folder)
        assert path.read_bytes() != source.read_bytes()
        if _json(path.read_bytes()) != original:
            differing.append(producer)
    assert differing == []
