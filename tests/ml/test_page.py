"""The page pipeline on rendered pages: lines found, texture refused, order, budget, inputs."""

import json
import random
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from ml.errors import ImageError
from ml.page.budget import PageBudget
from ml.page.pipeline import read_page, segment_page
from ml.page.preprocess import prepare_page
from ml.page.segeval import baseline_overlap
from ml.recognizer import Recognizer
from ml.synth.page import PageStyle, render_page
from ml.synth.text import TextSampler

ROOT = Path(__file__).resolve().parents[2]


def make_page(fonts, vocabulary, seed, **style):
    rng = np.random.default_rng(seed)
    sampler = TextSampler(vocabulary, random.Random(seed))
    base = dict(paper_width=900, paper_height=1100, heading=False, lighting=0.3)
    return render_page(fonts, sampler, rng, PageStyle(**(base | style)))


def matches(page, found_lines, scale: float = 1.0) -> list[int | None]:
    """For each found line, the index of the true line whose baseline it follows, or None."""
    out = []
    for line in found_lines:
        found = np.float32(line.baseline)
        scores = [
            baseline_overlap(found, np.float32(truth.baseline) * scale, truth.x_height * scale)
            for truth in page.lines
        ]
        out.append(int(np.argmax(scores)) if max(scores, default=0) > 0 else None)
    return out


def read_blocks(page, found_lines) -> list[int]:
    """The true block of each found line that matches one, in the order they were read."""
    return [page.lines[m].block for m in matches(page, found_lines) if m is not None]


def detection_f1(page, found_lines, scale: float = 1.0) -> float:
    matched = len({m for m in matches(page, found_lines, scale) if m is not None})
    precision = matched / max(len(found_lines), 1)
    recall = matched / max(len(page.lines), 1)
    return 2 * precision * recall / max(precision + recall, 1e-9)


@pytest.fixture(scope="module")
def page_fonts(fonts):
    plain = {"kalam", "coming-soon", "mali", "delius", "sriracha", "roboto"}  # held-out, legible
    return [f for f in fonts if f.name in plain]


@pytest.fixture(scope="module")
def real_recognizer():
    return Recognizer.load()


@pytest.mark.parametrize(
    "style",
    [
        {"paper": "plain"},
        {"paper": "ruled", "rotation": 4.0},
        {"paper": "squared", "perspective": 0.05, "rotation": -3.0},
        {"paper": "ruled", "columns": 2},
        {"paper": "linen", "layout": "letter", "tone": 0.5, "folds": 1},
    ],
    ids=["plain", "ruled-rotated", "squared-perspective", "two-columns", "linen-letter"],
)
def test_segmenter_finds_every_line_of_rendered_pages(page_fonts, vocabulary, style):
    page = make_page(page_fonts, vocabulary, seed=11, **style)
    assert detection_f1(page, segment_page(page.image).lines) >= 0.95


def test_two_columns_are_read_left_column_first(page_fonts, vocabulary):
    page = make_page(page_fonts, vocabulary, seed=5, paper="ruled", columns=2)
    order = read_blocks(page, segment_page(page.image).lines)
    assert order == sorted(order)  # every left-column line before any right-column line
    assert {0, 1} <= set(order)


def test_letter_is_read_letterhead_date_body_signature_then_side_note(page_fonts, vocabulary):
    page = make_page(
        page_fonts, vocabulary, seed=8, layout="letter", heading=True, side_note=True, paper="plain"
    )
    kinds = {line.kind for line in page.lines}
    assert {"print", "signature"} <= kinds
    order = read_blocks(page, segment_page(page.image).lines)
    assert order == sorted(order)  # letterhead 0, date 1, body 2, signature 3, side note 4
    assert {0, 2, 3, 4} <= set(order)


def test_polygons_are_in_original_pixels_of_a_huge_photo(page_fonts, vocabulary):
    page = make_page(page_fonts, vocabulary, seed=3, paper="ruled")
    big = cv2.resize(page.image, None, fx=3, fy=3, interpolation=cv2.INTER_LINEAR)
    segmented = segment_page(big)
    assert segmented.prepared.original_size == (big.shape[1], big.shape[0])
    assert detection_f1(page, segmented.lines, scale=3.0) >= 0.95
    for line in segmented.lines:  # the region holds its baseline
        polygon = np.float32(line.polygon)
        for point in line.baseline[1:-1]:
            assert cv2.pointPolygonTest(polygon, point, True) >= -2


@pytest.mark.parametrize("paper", ["linen", "laid", "recycled", "squared"])
def test_textured_blank_page_reads_as_empty(real_recognizer, page_fonts, vocabulary, paper):
    page = make_page(
        page_fonts,
        vocabulary,
        seed=21,
        layout="blank",
        paper=paper,
        punch_holes=2,
        stains=2,
        dust=True,
        lighting=0.6,
    )
    assert page.lines == ()
    result = read_page(real_recognizer, page.image)
    assert len(result.text.replace("\n", "")) <= 5, result.text


def test_holes_ruler_and_colour_chart_are_not_lines(real_recognizer, page_fonts, vocabulary):
    page = make_page(
        page_fonts,
        vocabulary,
        seed=9,
        paper="plain",
        punch_holes=4,
        ruler=True,
        colour_chart=True,
        dust=True,
    )
    found = read_page(real_recognizer, page.image).lines
    assert None not in matches(page, found)  # nothing but real lines
    assert detection_f1(page, found) >= 0.95


def test_time_budget_stops_a_pathological_page(real_recognizer, page_fonts, vocabulary):
    # Nine pages' worth of lines on one sheet: far more reading than a budget of 0.5 s allows.
    tile = make_page(page_fonts, vocabulary, seed=4, paper="plain").image
    crowded = np.vstack([np.hstack([tile] * 3)] * 3)
    result = read_page(real_recognizer, crowded, budget=PageBudget(seconds=0.5, max_lines=400))
    assert result.partial
    assert 0 < result.unread <= len(result.lines)
    assert all(line.text == "" for line in result.lines if not line.read)


def test_line_budget_keeps_the_most_confident_lines(page_fonts, vocabulary):
    page = make_page(page_fonts, vocabulary, seed=4, paper="plain")
    assert len(segment_page(page.image, budget=PageBudget(max_lines=3)).lines) == 3


def test_tiny_page_is_read_without_crashing_and_a_speck_is_refused():
    assert segment_page(np.full((40, 60), 255, np.uint8)).lines == ()
    with pytest.raises(ImageError, match="too small"):
        segment_page(np.full((10, 10), 255, np.uint8))


def test_exif_orientation_is_applied_before_segmentation(tmp_path, page_fonts, vocabulary):
    page = make_page(page_fonts, vocabulary, seed=3, paper="plain")
    stored = np.ascontiguousarray(np.rot90(page.image, k=1))  # the camera stored it sideways
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = tmp_path / "sideways.jpg"
    Image.fromarray(stored).save(path, exif=exif, quality=95)
    segmented = segment_page(path)
    assert segmented.prepared.original_size == (page.image.shape[1], page.image.shape[0])
    assert detection_f1(page, segmented.lines) >= 0.9


@pytest.mark.parametrize("mode", ["L", "RGBA", "I;16", "P"])
def test_image_modes_give_the_same_lines(page_fonts, vocabulary, mode):
    page = make_page(page_fonts, vocabulary, seed=3, paper="plain")
    image = Image.fromarray(page.image)
    if mode == "I;16":  # 16-bit grayscale, as some scanners write
        converted = Image.fromarray(np.asarray(image.convert("L")).astype(np.uint16) * 257)
        assert converted.mode.startswith("I;16")
    else:
        converted = image.convert(mode)
    assert detection_f1(page, segment_page(converted).lines) >= 0.9


def test_sheet_on_a_table_is_rectified(page_fonts, vocabulary):
    page = make_page(page_fonts, vocabulary, seed=2, paper="plain", perspective=0.05, rotation=5.0)
    prepared = prepare_page(page.image)
    assert prepared.sheet_found
    assert abs(segment_page(page.image).skew) < 1.0  # the rectified sheet is upright


def test_read_page_returns_text_in_reading_order(tiny_model_file, page_fonts, vocabulary):
    page = make_page(page_fonts, vocabulary, seed=4, paper="ruled")
    result = read_page(Recognizer.load(tiny_model_file, use_lm=False), page.image, alternatives=2)
    assert set(result.timings) == {"preprocess", "segment", "recognize"}
    ys = [line.baseline[0][1] for line in result.lines]
    assert ys == sorted(ys)
    assert all(0 <= line.confidence <= 1 for line in result.lines)
    assert not result.partial


def test_recognize_cli_reads_pages(tmp_path, page_fonts, vocabulary):
    page = make_page(page_fonts, vocabulary, seed=4, paper="ruled")
    path = tmp_path / "page.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(page.image, cv2.COLOR_RGB2BGR))
    command = [sys.executable, "-m", "ml.recognize", str(path), str(path), "--threads", "1"]
    plain = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.count("\f") == 1  # two pages
    as_json = subprocess.run(
        command + ["--json"], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    pages = [json.loads(row) for row in as_json.stdout.splitlines()]
    assert len(pages) == 2
    first = pages[0]
    assert (first["width"], first["height"]) == (page.image.shape[1], page.image.shape[0])
    assert {"preprocess", "segment", "recognize"} == set(first["timings"])
    line = first["lines"][0]
    assert len(line["polygon"]) >= 4 and len(line["baseline"]) >= 2
    assert {"text", "confidence", "words", "block"} <= set(line)
