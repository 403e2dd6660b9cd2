"""Form fields and block capitals: deterministic for a seed, labels that never lie."""

from __future__ import annotations

import random

import numpy as np
import pytest

from ml.charset import DEFAULT_CHARSET
from ml.data import LineStream, render_eval_set
from ml.synth.fields import KINDS, LABELS, FieldText, render_field
from ml.synth.render import render_line


@pytest.fixture(scope="module")
def hand(train_fonts):
    return next(f for f in train_fonts if f.name == "patrick-hand")


@pytest.fixture(scope="module")
def caps_font(fonts):
    return next(f for f in fonts if f.caps_only)


def test_field_texts_are_the_same_for_the_same_seed_and_cover_every_kind():
    a, b = FieldText(random.Random(5)), FieldText(random.Random(5))
    samples = [a.sample() for _ in range(200)]
    assert samples == [b.sample() for _ in range(200)]
    assert {kind for kind, _ in samples} == set(KINDS)
    for _, text in samples:
        assert text and text == text.strip()
        assert all(c in DEFAULT_CHARSET for c in text)


def test_capitals_are_upper_case():
    fields = FieldText(random.Random(1))
    for _ in range(50):
        _, text = fields.capitals()
        assert text == text.upper()


def test_a_form_field_is_deterministic_and_its_label_is_not_in_the_transcription(hand, print_font):
    render = lambda: render_field(  # noqa: E731
        "MARIE-CLAIRE", hand, np.random.default_rng(3), label="PRENOM", label_font=print_font
    )
    one, two = render(), render()
    assert one.text == "MARIE-CLAIRE" == two.text
    assert np.array_equal(one.image, two.image)
    assert one.image.dtype == np.uint8 and one.image.ndim == 2
    # Ink and printed boxes on paper: not blank, not black.
    assert 100 < one.image.mean() < 250 and one.image.min() < 100


def test_every_field_kind_has_labels():
    assert set(LABELS) == set(KINDS)


def test_caps_only_fonts_write_capitals_and_say_so(caps_font):
    rendered = render_line("Jean Dupont", caps_font, np.random.default_rng(0))
    assert rendered.text == "JEAN DUPONT"
    field = render_field("Jean", caps_font, np.random.default_rng(0))
    assert field.text == "JEAN"


@pytest.mark.parametrize("kind", ["capitals", "modern"])
def test_test_sets_are_reproducible(fonts, vocabulary, kind):
    test_fonts = [f for f in fonts if f.split == "test"]
    a = render_eval_set(test_fonts, vocabulary, 6, seed=9, kind=kind)
    b = render_eval_set(test_fonts, vocabulary, 6, seed=9, kind=kind)
    assert [t for _, t in a] == [t for _, t in b]
    assert all(np.array_equal(x, y) for (x, _), (y, _) in zip(a, b, strict=True))
    if kind == "capitals":
        assert all(t == t.upper() for _, t in a)


def test_training_stream_mixes_fields_and_print(train_fonts, fonts, vocabulary):
    prints = [f for f in fonts if f.split == "train" and f.style == "print"]
    stream = LineStream(
        charset=DEFAULT_CHARSET,
        height=32,
        column_reduction=4,
        batch_size=8,
        fonts=train_fonts[:5] + prints[:3],
        vocabulary=vocabulary,
        max_words=4,
        field_fraction=1.0,
        print_fraction=0.0,
        seed=4,
    )
    batch = next(iter(stream))
    assert batch.images.shape[0] == 8
    # With every handwritten line a field, most texts are in capitals.
    assert sum(t == t.upper() for t in batch.texts) >= 4
