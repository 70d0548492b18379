"""The hostile corpus natively (issue 11): every file through convert, a subset through every op.

About 1,400 files: Pillow's own test images and a seeded crafted set (see
tests/hostile_corpus.py). Each runs in a child engine process, so a crash or
a hang is reported against the file instead of ending the run.
tests/browser/test_hostile_corpus_worker.py runs the same files through the
worker and compares.
"""

from __future__ import annotations

import collections

import hostile_corpus as corpus
import pytest
from pixelpress.errors import codes

# Anything else is a defect: internal_error, or the harness's crash, hang and unreadable_output.
TYPED = set(codes()) - {"internal_error"} | {"ok"}
OP_SUBSET = 40


def failures(outcomes: dict[str, dict]) -> list[str]:
    return [f"{name}: {o}" for name, o in outcomes.items() if o["code"] not in TYPED]


def test_convert_gives_every_file_a_typed_answer():
    outcomes = corpus.native_outcomes()
    assert len(outcomes) > 1300
    assert failures(outcomes) == []


def test_the_corpus_is_hostile_and_the_intact_photos_convert():
    """The corpus must keep exercising every refusal; and hostility must not cost the good files."""
    outcomes = corpus.native_outcomes()
    codes = collections.Counter(o["code"] for o in outcomes.values())
    for code in ("ok", "unsupported_format", "corrupt_image", "decompression_bomb", "too_large", "empty_input"):
        assert codes[code] > 0, codes
    intact = {n: o for n, o in outcomes.items() if n.startswith("intact.")}
    assert len(intact) == 10 and all(o["code"] == "ok" for o in intact.values()), intact
    for name in ("bomb-webp-vp8x-16383.webp", "zlib-bomb-20000x20000.png", "bomb-png-100000x100000.png"):
        assert outcomes[name]["code"] == "decompression_bomb", (name, outcomes[name])


@pytest.fixture(scope="module")
def op_outcomes():
    return corpus.run_native(corpus.op_jobs(OP_SUBSET))


def test_every_op_gives_the_subset_typed_answers(op_outcomes):
    assert len(op_outcomes) == OP_SUBSET * 12
    assert failures(op_outcomes) == []


def test_every_op_accepts_the_intact_photos(op_outcomes):
    bad = {k: o for k, o in op_outcomes.items() if k.split(":", 1)[1].startswith("intact.") and o["code"] != "ok"}
    assert not bad
