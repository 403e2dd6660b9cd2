"""The committed recognizer's accuracy, pinned: a worse model cannot be committed silently.

The fixture lines (`fixtures/quality/`) were rendered once from the held-out test fonts
(`render_eval_set`, kinds notes / capitals / modern, seeds 31-33, stored at the model's height
as WebP) so that changes to the renderer do not move the pin. They are easy next to real
handwriting; what they catch is a model that got worse, or a decoding path that broke.

When a better model is committed, lower the pins to its measured CER plus a small margin (about
one point: the pins must hold on every machine, and bfloat16 kernels differ slightly).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ml.manifest import read_manifest
from ml.metrics import ErrorCounter
from ml.recognizer import Recognizer

FIXTURES = Path(__file__).with_name("fixtures") / "quality" / "manifest.tsv"
# Corpus CER with the committed model and its LM, measured when it was committed, plus margin.
PINNED_CER = {"notes": 0.07, "capitals": 0.80, "modern": 0.14}


@pytest.fixture(scope="module")
def readings():
    entries = read_manifest(FIXTURES)
    recognizer = Recognizer.load()
    return entries, recognizer.recognize([e.image for e in entries])


@pytest.mark.parametrize("kind", sorted(PINNED_CER))
def test_committed_model_reads_the_fixture_lines_at_least_as_well_as_pinned(readings, kind):
    entries, results = readings
    counter = ErrorCounter()
    for entry, result in zip(entries, results, strict=True):
        if entry.image.name.startswith(kind):
            counter.add(result.text, entry.text)
    assert counter.chars > 0
    assert counter.cer <= PINNED_CER[kind], f"{kind}: CER {counter.cer:.3f}"
