"""Every state, actor and bot step has a pt-BR name on screen: no internal identifier reaches a page."""

from __future__ import annotations

import re
from pathlib import Path

from storage.models import NEXT_ACTOR, AdhesionStatus
from web import labels

ROOT = Path(__file__).resolve().parents[2]


def test_every_adhesion_state_and_actor_has_a_label():
    assert set(labels.STATUS_LABELS) == {s.value for s in AdhesionStatus}
    assert set(NEXT_ACTOR.values()) <= set(labels.ACTOR_LABELS)
    assert all(label and label[0].isupper() for label in labels.STATUS_LABELS.values())


def test_every_step_the_bot_records_has_a_label():
    """The step names written by flows/ and bot/ (a `_step("name", …)` or a `step="name"`)."""
    pattern = re.compile(r"""(?:_step\(\s*|step=)["']([a-z_]+)["']""")
    steps = {name for folder in ("flows", "bot") for path in (ROOT / folder).rglob("*.py")
             for name in pattern.findall(path.read_text(encoding="utf-8"))}
    assert steps, "no step names found: the pattern no longer matches how flows name their steps"
    assert steps - set(labels.STEP_LABELS) == set()


def test_an_unknown_step_is_shown_as_a_generic_phrase_not_its_name():
    assert labels.step_label("some_new_internal_step") == labels.STEP_FALLBACK
    assert labels.step_label("verify_enrolled") == "Conferência da adesão"
    assert labels.step_label(None) is None
