"""Page pipeline: preprocessing, segmentation and reading order on rendered pages."""

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
from ml.evaluate_pages import match_lines, polygon_iou
from ml.page.pipeline import read_page, segment_page
from ml.page.preprocess import estimate_skew, prepare_page
from ml.recognizer import Recognizer
from ml.synth.page import PageStyle, render_page
from ml.synth.text import TextSampler

ROOT = Path(__file__).resolve().parents[2]


def make_page(fonts, vocabulary, seed, **style):
    rng = np.random.default_rng(seed)
    sampler = TextSampler(vocabulary, random.Random(seed))
    base = dict(paper_width=900, paper_height=1100, heading=False, lighting=0.3)
    return render_page(fonts, sampler, rng, PageStyle(**(base | style)))


def detection_f1(page, result_lines) -> float:
    matched = match_lines([ln.polygon for ln in result_lines], [ln.polygon for ln in page.lines])
    precision = matched / max(len(result_lines), 1)
    recall = matched / max(len(page.lines), 1)
    return 2 * precision * recall / max(precision + recall, 1e-9)


@pytest.fixture(scope="module")
def page_fonts(fonts):
    plain = {"kalam", "coming-soon", "mali", "delius", "sriracha"}  # held-out, legible
    return [f for f in fonts if f.name in plain]


@pytest.mark.parametrize(
    "style",
    [
        {"paper": "plain"},
        {"paper": "ruled", "rotation": 4.0},
        {"paper": "squared", "perspective": 0.05, "rotation": -3.0},
        {"paper": "ruled", "columns": 2},
    ],
    ids=["plain", "ruled-rotated", "squared-perspective", "two-columns"],
)
def test_lines_of_rendered_pages_are_found(page_fonts, vocabulary, style):
    page = make_page(page_fonts, vocabulary, seed=11, **style)
    segmented = segment_page(page.image)
    assert detection_f1(page, segmented.lines) >= 0.85


def test_two_columns_are_read_left_column_first(page_fonts, vocabulary):
    page = make_page(page_fonts, vocabulary, seed=5, paper="ruled", columns=2)
    segmented = segment_page(page.image)
    order = []
    for line in segmented.lines:
        ious = [polygon_iou(line.polygon, truth.polygon) for truth in page.lines]
        if max(ious) >= 0.5:
            order.append(page.lines[int(np.argmax(ious))].block)
    assert order == sorted(order)  # every left-column line before any right-column line
    assert {0, 1} <= set(order)


def test_polygons_are_in_original_pixels_of_a_huge_photo(page_fonts, vocabulary):
    page = make_page(page_fonts, vocabulary, seed=3, paper="ruled")
    big = cv2.resize(page.image, None, fx=3, fy=3, interpolation=cv2.INTER_LINEAR)
    segmented = segment_page(big)
    assert segmented.prepared.original_size == (big.shape[1], big.shape[0])
    scaled_truth = [[(x * 3, y * 3) for x, y in line.polygon] for line in page.lines]
    matched = match_lines([ln.polygon for ln in segmented.lines], scaled_truth)
    assert matched >= 0.9 * len(page.lines)


def test_blank_page_has_no_lines():
    rng = np.random.default_rng(0)
    blank = (235 + rng.normal(0, 3, (800, 600))).clip(0, 255).astype(np.uint8)
    assert segment_page(blank).lines == ()


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
    assert detection_f1(page, segmented.lines) >= 0.85


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


def test_skew_is_measured_on_text_rows():
    ink = np.zeros((400, 600), bool)
    for y in range(60, 360, 40):
        ink[y : y + 12, 50:550] = True
    rotation = cv2.getRotationMatrix2D((300, 200), 3.0, 1.0)
    tilted = cv2.warpAffine(ink.astype(np.uint8), rotation, (600, 400)).astype(bool)
    assert estimate_skew(tilted) == pytest.approx(-3.0, abs=0.3)


def test_sheet_on_a_table_is_rectified(page_fonts, vocabulary):
    page = make_page(page_fonts, vocabulary, seed=2, paper="plain", perspective=0.05, rotation=5.0)
    prepared = prepare_page(page.image)
    assert prepared.sheet_found
    assert abs(prepared.skew) < 1.0  # the rectified sheet is already upright


def test_read_page_returns_text_in_reading_order(tiny_model_file, page_fonts, vocabulary):
    page = make_page(page_fonts, vocabulary, seed=4, paper="ruled")
    result = read_page(Recognizer.load(tiny_model_file), page.image, alternatives=2)
    assert len(result.lines) >= 0.9 * len(page.lines)
    assert set(result.timings) == {"preprocess", "segment", "recognize"}
    ys = [line.polygon[0][1] for line in result.lines]
    assert ys == sorted(ys)
    assert all(0 <= line.confidence <= 1 for line in result.lines)
    assert result.text.count("\n") == len([ln for ln in result.lines if ln.text]) - 1


def test_recognize_cli_reads_pages(tmp_path, tiny_model_file, page_fonts, vocabulary):
    page = make_page(page_fonts, vocabulary, seed=4, paper="ruled")
    path = tmp_path / "page.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(page.image, cv2.COLOR_RGB2BGR))
    command = [
        sys.executable,
        "-m",
        "ml.recognize",
        str(path),
        str(path),
        "--model",
        str(tiny_model_file),
        "--threads",
        "1",
    ]
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
    assert len(line["polygon"]) == 4 and len(line["baseline"]) == 2
    assert {"text", "confidence", "words", "block"} <= set(line)
