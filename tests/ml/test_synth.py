import random
import re
from dataclasses import replace

import numpy as np

from ml.charset import DEFAULT_CHARSET
from ml.data import LineStream, fits_ctc
from ml.synth import augment
from ml.synth.fonts import load_catalogue, load_fonts
from ml.synth.render import fit_text_to_font, render_line
from ml.synth.text import TextSampler, Vocabulary
from tests.ml.conftest import FONT_DIR


def test_catalogue_has_fifty_open_handwriting_families_and_held_out_fonts():
    catalogue = load_catalogue()
    handwriting = [f for f in catalogue if f.style == "handwriting"]
    assert len({f.name for f in handwriting}) >= 50
    assert {f.license for f in catalogue} <= {"OFL-1.1", "Apache-2.0"}
    test = {f.name for f in catalogue if f.split == "test"}
    train = {f.name for f in catalogue if f.split == "train"}
    assert len(test & {f.name for f in handwriting}) >= 10
    assert not test & train
    assert all(f.integrity.startswith("sha512-") for f in catalogue)


def test_load_fonts_filters_by_split(fonts):
    test_fonts = load_fonts(FONT_DIR, split="test")
    assert test_fonts and all(f.split == "test" for f in test_fonts)
    assert len(fonts) == len(load_catalogue())
    assert all("a" in f.charset and f.path.exists() for f in fonts)


def test_rendering_is_deterministic_for_a_seed(train_fonts):
    font = train_fonts[0]
    first = render_line("Meeting at 10:30, room 4", font, np.random.default_rng(7))
    again = render_line("Meeting at 10:30, room 4", font, np.random.default_rng(7))
    other = render_line("Meeting at 10:30, room 4", font, np.random.default_rng(8))
    assert np.array_equal(first.image, again.image)
    assert first.text == "Meeting at 10:30, room 4"
    assert not np.array_equal(first.image, other.image)


def test_rendered_line_is_dark_ink_on_lighter_paper(train_fonts):
    rendered = render_line("ink", train_fonts[1], np.random.default_rng(1))
    image = rendered.image
    assert image.dtype == np.uint8 and image.ndim == 2
    assert np.percentile(image, 5) < np.percentile(image, 80) - 40


def test_characters_a_font_lacks_are_replaced_or_dropped(train_fonts):
    font = replace(train_fonts[0], charset=frozenset("abcdefghijklmnopqrstuvwxyz "))
    assert fit_text_to_font("café €5 naïve", font) == "cafe naive"
    assert render_line("€€", font, np.random.default_rng(0)) is None


def test_text_sampler_is_deterministic_and_note_like(vocabulary):
    lines = [TextSampler(vocabulary, random.Random(3)).line(8) for _ in range(1)]
    assert lines == [TextSampler(vocabulary, random.Random(3)).line(8)]
    sampler = TextSampler(vocabulary, random.Random(5))
    many = [sampler.line(8) for _ in range(400)]
    joined = " ".join(many)
    assert all(0 < len(line) <= 64 for line in many)
    assert re.search(r"\d", joined) and re.search(r"[A-Z]", joined)
    assert re.search(r"[éèàçêô]", joined)
    assert re.search(r"@", joined) and re.search(r"\d:\d\d", joined)
    assert all(DEFAULT_CHARSET.normalize(line) == line for line in many)


def test_max_words_bounds_line_length(vocabulary):
    sampler = TextSampler(vocabulary, random.Random(1))
    tokens = sorted(len(sampler.line(1).split()) for _ in range(200))
    assert tokens[len(tokens) // 2] == 1  # a phone number or a date may take a few tokens
    assert tokens[-1] <= 5


def test_vocabulary_round_trips_through_tsv(tmp_path, vocabulary):
    path = tmp_path / "vocab.tsv"
    vocabulary.save(path)
    loaded = Vocabulary.load(path)
    assert loaded.words == vocabulary.words
    rng_a, rng_b = random.Random(1), random.Random(1)
    assert [loaded.sample(rng_a) for _ in range(50)] == [
        vocabulary.sample(rng_b) for _ in range(50)
    ]


def test_shear_widens_the_canvas_and_keeps_the_ink():
    mask = np.zeros((40, 100), np.uint8)
    mask[10:30, 40:60] = 255
    sheared = augment.shear(mask, 0.5, fill=0)
    assert sheared.shape[0] == 40 and sheared.shape[1] > 100
    assert sheared.sum() > 0.9 * mask.sum()


def test_photo_augmentation_keeps_shape_and_type():
    image = np.full((40, 200), 230, np.uint8)
    image[15:25, 20:180] = 30
    out = augment.augment_photo(image, np.random.default_rng(0), strength=3.0)
    assert out.shape == image.shape and out.dtype == np.uint8


def test_line_stream_yields_ctc_ready_batches(train_fonts, vocabulary):
    stream = LineStream(
        charset=DEFAULT_CHARSET,
        height=32,
        column_reduction=4,
        batch_size=4,
        fonts=train_fonts[:5],
        vocabulary=vocabulary,
        max_words=3,
        seed=1,
    )
    batch = next(iter(stream))
    assert batch.images.shape[:3] == (4, 1, 32)
    assert int(batch.target_lengths.sum()) == len(batch.targets)
    assert all(DEFAULT_CHARSET.normalize(t) == t for t in batch.texts)
    for width, text in zip(batch.widths.tolist(), batch.texts, strict=True):
        assert fits_ctc(DEFAULT_CHARSET.encode(text), width // 4)


def test_fits_ctc_needs_a_frame_between_repeated_letters():
    assert fits_ctc([1, 2], 2)
    assert not fits_ctc([1, 1], 2)
    assert fits_ctc([1, 1], 3)
    assert not fits_ctc([], 5)
