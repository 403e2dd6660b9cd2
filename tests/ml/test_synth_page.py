"""Synthetic pages: exact baselines, layouts, paper, and the `pages` command."""

import random
from dataclasses import replace

import cv2
import numpy as np
import pytest

from ml.groundtruth import read_ground_truth
from ml.synth.__main__ import main as synth_main
from ml.synth.letter import BODY, DATE
from ml.synth.page import KINDS, PageStyle, render_page
from ml.synth.text import TextSampler
from tests.ml.conftest import FONT_DIR

SMALL = {"paper_width": 800, "paper_height": 1000}
# Letters that reach below the baseline in most fonts.
DESCENDERS = set("gjpqyfzJQ,;()[]{}|@$/_ßµ")


@pytest.fixture(scope="module")
def page_fonts(fonts):
    """Legible hands plus print and typewriter faces (letterheads, typed letters)."""
    names = {"kalam", "coming-soon", "mali", "delius", "sriracha", "pt-serif", "courier-prime"}
    return [f for f in fonts if f.name in names]


def make_page(fonts, vocabulary, seed, style):
    sampler = TextSampler(vocabulary, random.Random(seed))
    return render_page(fonts, sampler, np.random.default_rng(seed), style)


def random_style(seed, **fixed):
    return replace(PageStyle.random(np.random.default_rng(seed + 1000)), **(SMALL | fixed))


def few_descenders(text):
    return len(text) > 3 and sum(c in DESCENDERS for c in text) <= 0.05 * len(text)


def ink_profile(gray, line, reach):
    """Share of ink pixels in each row from `reach` above the baseline to `reach` below it."""
    xs = np.array([p[0] for p in line.baseline])
    ys = np.array([p[1] for p in line.baseline])
    margin = 0.1 * (xs[-1] - xs[0])
    columns = np.arange(int(xs[0] + margin), int(xs[-1] - margin))
    rows = np.round(np.interp(columns, xs, ys)).astype(int)
    offsets = np.arange(-reach, reach + 1)
    samples = gray[rows[None, :] + offsets[:, None], columns[None, :]]
    return offsets, (samples < 150).mean(axis=1)


def test_same_seed_gives_the_same_page(page_fonts, vocabulary):
    style = random_style(3, layout="letter", dust=0.5, stains=1, punch_holes=2, ruler=True)
    first = make_page(page_fonts, vocabulary, 3, style)
    second = make_page(page_fonts, vocabulary, 3, style)
    other = make_page(page_fonts, vocabulary, 4, style)
    assert np.array_equal(first.image, second.image)
    assert first.lines == second.lines
    assert first.lines != other.lines


@pytest.mark.parametrize("layout", ["notes", "letter"])
def test_baselines_lie_at_the_bottom_of_the_ink(page_fonts, vocabulary, layout):
    style = PageStyle(
        **SMALL, layout=layout, paper="plain", rotation=3.0, perspective=0.03, photo_scale=1.2
    )
    page = make_page(page_fonts, vocabulary, 5, style)
    gray = cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY)
    plain = [line for line in page.lines if line.kind != "signature" and few_descenders(line.text)]
    assert len(plain) >= 2
    for line in plain:
        offsets, ink = ink_profile(gray, line, reach=int(line.x_height))
        core = ink[(offsets >= -0.6 * line.x_height) & (offsets <= -0.3 * line.x_height)].mean()
        below = ink[offsets >= 3].mean()
        # The ink's bottom edge: the first row under the core band where ink falls below half.
        edge = offsets[(offsets > -0.3 * line.x_height) & (ink < core / 2)][0]
        assert below < core / 4, line.text
        assert abs(edge) <= 3, (line.text, edge)  # rounded letters taper off above it


def test_blank_page_has_no_lines_but_its_texture_shows(page_fonts, vocabulary):
    def fine_detail(paper):
        page = make_page(page_fonts, vocabulary, 2, PageStyle(**SMALL, layout="blank", paper=paper))
        gray = cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY).astype(np.float32)
        h, w = gray.shape
        middle = gray[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3]
        return page.lines, float(np.std(middle - cv2.GaussianBlur(middle, (0, 0), 3)))

    linen_lines, linen = fine_detail("linen")
    plain_lines, plain = fine_detail("plain")
    assert linen_lines == () and plain_lines == ()
    assert linen > 2 * plain


def test_letter_has_letterhead_date_top_right_and_signature(page_fonts, vocabulary):
    style = PageStyle(**SMALL, layout="letter", paper="linen", heading=True)
    page = make_page(page_fonts, vocabulary, 1, style)
    assert {"print", "handwritten", "signature"} <= {line.kind for line in page.lines}
    height, width = page.image.shape[:2]
    date = next(line for line in page.lines if line.block == DATE)
    x0, y0, x1, y1 = date.bbox
    assert (x0 + x1) / 2 > width / 2 and y1 < height / 3
    assert all(y1 < line.bbox[1] for line in page.lines if line.block == BODY)
    assert [line.block for line in page.lines] == sorted(line.block for line in page.lines)


def test_a_letter_sometimes_splits_its_date_over_two_lines(page_fonts, vocabulary):
    style = PageStyle(**SMALL, layout="letter", paper="plain", heading=False)
    dates = [
        [
            line
            for line in make_page(page_fonts, vocabulary, seed, style).lines
            if line.block == DATE
        ]
        for seed in range(10)
    ]
    split = next(lines for lines in dates if len(lines) == 2)
    assert split[0].bbox[3] < split[1].bbox[1]  # the second part is written below the first


def test_lines_lie_inside_the_photo(page_fonts, vocabulary):
    for seed in range(4):
        page = make_page(page_fonts, vocabulary, seed, random_style(seed, layout="letter"))
        height, width = page.image.shape[:2]
        for line in page.lines:
            assert line.kind in KINDS
            assert line.x_height > 0 and len(line.baseline) >= 2
            xs = [x for x, _ in line.baseline]
            assert xs == sorted(xs)
            for x, y in line.polygon + line.baseline:
                assert 0 <= x <= width and 0 <= y <= height


def test_pages_command_writes_page_xml_with_baselines_and_kinds(tmp_path):
    common = ["--split", "test", "--seed", "2", "--fonts", str(FONT_DIR)]
    assert (
        synth_main(
            ["pages", "--out", str(tmp_path / "l"), "--count", "2", "--layout", "letter"] + common
        )
        == 0
    )
    assert (
        synth_main(
            ["pages", "--out", str(tmp_path / "b"), "--count", "1", "--layout", "blank"] + common
        )
        == 0
    )
    letters = [read_ground_truth(path) for path in sorted((tmp_path / "l").glob("*.xml"))]
    kinds = {line.kind for page in letters for line in page.lines}
    assert (
        {"Handwritten", "Signature"}
        <= kinds
        <= {"Handwritten", "Print", "Typewritten", "Signature"}
    )
    assert all(len(line.baseline) >= 2 for page in letters for line in page.lines)
    assert all(page.image.exists() for page in letters)
    assert read_ground_truth(tmp_path / "b" / "page000.xml").lines == ()
