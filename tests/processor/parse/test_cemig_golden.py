"""Golden tests: every real CEMIG sample parses to its committed expected JSON (personal data hashed).

The 2023/2024 golden files were written before the schema grew 2026 fields (`uc_code`, `injection`,
`debts`); they are kept as they are, and a key missing from a golden file must be empty in the parse.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from processor.parse.checks import checks_passed
from processor.parse.registry import PARSERS
from processor.parse.schema import Bill
from processor.parse.text import pdf_text
from tests.processor.parse.golden_pairs import text_stems
from tests.samples import SAMPLE_DIRS, SAMPLES, SAMPLES_2026, sample_path

GOLDEN = Path(__file__).resolve().parent / "golden"
EDITED = {"fatura_cemig", "fatura_cemig_convencional"}
STEMS_2026 = ("4533142018-04-2026",)
"""The real 2026 bills (in `SAMPLES_2026`): named after the UC code's digits, which they print in place of
an installation number."""
"""Published with values overlaid by hand: they must parse, and must land in needs_review."""

STEMS = sorted(path.name.removesuffix(".expected.json") for path in GOLDEN.glob("*.expected.json")
               if path.name.removesuffix(".expected.json") not in text_stems(GOLDEN))
"""The real samples' golden files (text pairs exported from reviewed bills are `test_text_golden.py`'s)."""

needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"the real CEMIG sample bills are not at {SAMPLES} (kept outside the repo)"
)
needs_samples_2026 = pytest.mark.skipif(
    not SAMPLES_2026.is_dir(),
    reason=f"the real 2026 CEMIG sample bills are not at {SAMPLES_2026} (kept outside the repo)",
)
STEMS_2024 = [stem for stem in STEMS if stem not in STEMS_2026]


def redact(bill: dict) -> dict:
    """Replace personal data with a sha256 of it, as the golden files store it."""
    if bill.get("holder_name") is not None:
        bill["holder_name"] = "sha256:" + hashlib.sha256(bill["holder_name"].encode()).hexdigest()
    return bill


def parse_sample(stem: str):
    return PARSERS["cemig"](pdf_text(sample_path(stem).read_bytes()))


def test_every_sample_has_a_golden_file():
    if all(folder.is_dir() for folder in SAMPLE_DIRS):
        assert sorted(path.stem for folder in SAMPLE_DIRS for path in folder.glob("*.pdf")) == STEMS
    assert len(STEMS) == 27
    assert set(STEMS_2026) <= set(STEMS)


def assert_matches_golden(stem: str) -> None:
    expected = json.loads((GOLDEN / f"{stem}.expected.json").read_text(encoding="utf-8"))
    actual = redact(parse_sample(stem).model_dump(mode="json"))
    newer = {key: actual.pop(key) for key in set(actual) - set(expected)}
    assert all(value in (None, [], {}) for value in newer.values()), newer
    assert actual == expected


@needs_samples
@pytest.mark.parametrize("stem", STEMS_2024)
def test_sample_matches_golden(stem):
    assert_matches_golden(stem)


@needs_samples_2026
@pytest.mark.parametrize("stem", STEMS_2026)
def test_2026_sample_matches_golden(stem):
    expected = json.loads((GOLDEN / f"{stem}.expected.json").read_text(encoding="utf-8"))
    # A 2026 golden file holds every field of today's schema but `confidence`, which only OCR fills (the goldens
    # stay byte-identical; assert_matches_golden still requires it empty here).
    assert set(expected) == set(Bill.model_fields) - {"confidence"}
    assert_matches_golden(stem)


@needs_samples_2026
@pytest.mark.parametrize("stem", STEMS_2026)
def test_the_2026_sample_passes_every_check_by_its_uc_code(stem):
    bill = parse_sample(stem)
    assert bill.layout == "cemig-nf3e-2026" and bill.installation is None
    assert bill.checks and all(bill.checks.values()), bill.checks
    assert checks_passed(bill, expected_installation=bill.uc_code)
    # The file is named after the UC's first ten digits: that is not the unit's number in any form.
    assert not checks_passed(bill, expected_installation=stem.split("-")[0])
    assert not checks_passed(bill, expected_installation="3000055479")


@needs_samples
@pytest.mark.parametrize("stem", STEMS_2024)
def test_real_samples_pass_checks_and_edited_ones_need_review(stem):
    bill = parse_sample(stem)
    if stem in EDITED:
        assert not checks_passed(bill)
        assert not all(bill.checks.values())
    else:
        assert bill.checks and all(bill.checks.values()), bill.checks
        assert checks_passed(bill, expected_installation=stem.split("-")[0])
        assert not checks_passed(bill, expected_installation="3999999999")


def test_golden_files_hold_no_clear_holder_name():
    for stem in STEMS:
        golden = json.loads((GOLDEN / f"{stem}.expected.json").read_text(encoding="utf-8"))
        assert golden["holder_name"] is None or golden["holder_name"].startswith("sha256:")
