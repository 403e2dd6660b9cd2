import json

import cv2
import numpy as np
import pytest

from ml import evaluate_pages
from ml.evaluate_pages import find_pages, match_lines, score_page, summarize
from ml.groundtruth import GroundTruthLine, GroundTruthPage, read_ground_truth
from ml.metrics import baseline_detection, ink_iou_matrix, line_spacing, polygon_iou
from ml.page.pipeline import PageLine
from ml.synth.__main__ import render_pages
from tests.ml.conftest import FONT_DIR


def square(x, y, size=10):
    return ((x, y), (x + size, y), (x + size, y + size), (x, y + size))


def box(x0, y0, x1, y1):
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def test_polygon_iou_of_overlapping_squares():
    assert polygon_iou(square(0, 0), square(0, 0)) == pytest.approx(1.0)
    assert polygon_iou(square(0, 0), square(5, 0)) == pytest.approx(50 / 150)
    assert polygon_iou(square(0, 0), square(20, 20)) == 0.0


def test_matching_is_one_to_one():
    truth = [square(0, 0), square(0, 20)]
    assert match_lines([square(0, 0), square(1, 0)], truth) == 1  # two guesses, one line
    assert match_lines([square(0, 0), square(0, 21)], truth) == 2


@pytest.fixture
def two_ink_lines():
    """A 200x120 ink mask holding two lines of strokes: rows 20-30 and rows 70-80."""
    ink = np.zeros((120, 200), bool)
    for top in (20, 70):
        ink[top : top + 10, 10:190:4] = True  # vertical strokes, paper between them
    return ink


def test_ink_iou_ignores_how_tall_the_polygons_are(two_ink_lines):
    tight, tall = box(8, 18, 192, 32), box(5, 0, 195, 50)  # tall: eScriptorium-like
    assert polygon_iou(tight, tall) < 0.4
    scores = ink_iou_matrix(two_ink_lines, [tight], [tall])
    assert scores[0, 0] == pytest.approx(1.0)


def test_ink_iou_of_different_lines_is_zero(two_ink_lines):
    scores = ink_iou_matrix(two_ink_lines, [box(8, 18, 192, 32)], [box(8, 68, 192, 82)])
    assert scores[0, 0] == 0.0


def test_ink_iou_counts_half_a_line_as_half(two_ink_lines):
    half = box(8, 18, 100, 32)  # the left half of the upper line's strokes
    scores = ink_iou_matrix(two_ink_lines, [half], [box(5, 0, 195, 50)])
    assert scores[0, 0] == pytest.approx(0.5, abs=0.05)


def test_baselines_within_a_quarter_line_count_and_others_do_not():
    truth = [((0, 100), (400, 100)), ((0, 160), (400, 160))]
    assert line_spacing(truth) == pytest.approx(60)
    tolerance = 0.25 * 60
    near = baseline_detection([((0, 108), (400, 108))], truth, (300, 500), tolerance)
    assert near.precision == pytest.approx(1.0)
    assert near.recall == pytest.approx(0.5, abs=0.01)  # the second line was not found
    between = baseline_detection([((0, 130), (400, 130))], truth, (300, 500), tolerance)
    assert between.precision == 0.0
    assert between.recall == 0.0


def test_a_split_baseline_still_covers_its_line():
    truth = [((0, 100), (400, 100))]
    halves = [((0, 102), (200, 102)), ((200, 101), (400, 101))]
    counter = baseline_detection(halves, truth, (300, 500), tolerance=10)
    assert counter.precision == pytest.approx(1.0)
    assert counter.recall == pytest.approx(1.0)


def write_page(folder, name, texts, unannotated=()):
    """A white page with text lines drawn at y = 150, 250, ...; their ground truth."""
    image = np.full((600, 800), 235, np.uint8)
    lines = []
    for i, text in enumerate(texts):
        y = 150 + 100 * i
        cv2.putText(image, text, (60, y), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 30, 3)
        polygon = box(50, y - 60, 700, y + 30)  # tall, as eScriptorium draws them
        lines.append(GroundTruthLine(f"l{i}", text, (50, y - 60, 701, y + 31), polygon))
    for x, y, text in unannotated:  # printed text nobody transcribed
        cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 30, 2)
    path = folder / f"{name}.png"
    cv2.imwrite(str(path), image)
    regions = tuple(box(x - 10, y - 45, x + 500, y + 15) for x, y, _ in unannotated)
    return GroundTruthPage(folder / f"{name}.xml", path, 800, 600, tuple(lines), regions)


def ours(x0, y0, x1, y1, text, baseline=None):
    """A detected line as our pipeline reports it: the ink's box."""
    return PageLine(polygon=box(x0, y0, x1, y1), baseline=baseline or (), block=0, text=text)


def test_tight_detections_match_tall_ground_truth(tmp_path):
    page = write_page(tmp_path, "p", ["hello world", "second line"])
    lines = [ours(55, 115, 330, 160, "hello world"), ours(55, 215, 330, 260, "second line")]
    score = score_page(page, lines, seconds=1.0)
    assert (score.lines.precision, score.lines.recall) == (1.0, 1.0)
    assert score.page_errors.cer == 0.0


def test_reading_order_mistakes_cost_page_cer_but_not_matched_line_cer(tmp_path):
    page = write_page(tmp_path, "p", ["hello world", "second line"])
    backwards = [ours(55, 215, 330, 260, "second line"), ours(55, 115, 330, 160, "hello world")]
    score = score_page(page, backwards, seconds=1.0)
    assert score.page_errors.cer > 0.5
    assert score.matched_errors.cer == 0.0


def test_blank_page_counts_hallucinated_characters_and_is_kept_out_of_cer(tmp_path):
    text_page = write_page(tmp_path, "text", ["hello world"])
    blank_page = write_page(tmp_path, "blank", [])
    scores = [
        score_page(text_page, [ours(55, 115, 330, 160, "hello world")], seconds=1.0),
        score_page(blank_page, [ours(0, 0, 800, 40, "weave read as text")], seconds=2.0),
    ]
    assert scores[1].hallucinated == 15  # characters, spaces not counted
    summary = summarize(scores)
    assert summary["page_cer"] == 0.0
    assert (summary["blank_pages"], summary["hallucinated_chars_max"]) == (1, 15)
    assert summary["seconds_per_page_worst"] == 2.0


def test_lines_inside_unannotated_regions_are_neither_false_positives_nor_text(tmp_path):
    page = write_page(tmp_path, "p", ["hello world"], unannotated=[(60, 450, "PRINTED HEADER")])
    lines = [ours(55, 115, 330, 160, "hello world"), ours(55, 415, 450, 460, "PRINTED HEADER")]
    score = score_page(page, lines, seconds=1.0)
    assert score.dropped == 1
    assert score.lines.precision == 1.0
    assert score.page_errors.cer == 0.0


def test_on_pages_fr_pages_lines_off_every_true_line_are_unknown(tmp_path):
    drawn = write_page(tmp_path, "p", ["hello world"], unannotated=[(60, 450, "PRINTED HEADER")])
    true_line = [list(map(float, p)) for p in drawn.lines[0].polygon]
    region = {"polygon": true_line, "lines": [{"polygon": true_line, "text": "hello world"}]}
    page_file = tmp_path / "p.json"  # pages-fr: the header has no region at all
    page_file.write_text(
        json.dumps({"image": "p.png", "width": 800, "height": 600, "regions": [region]})
    )
    lines = [ours(55, 115, 330, 160, "hello world"), ours(55, 415, 450, 460, "PRINTED HEADER")]
    score = score_page(read_ground_truth(page_file), lines, seconds=1.0)
    assert score.dropped == 1
    assert score.lines.precision == 1.0


def test_find_pages_takes_json_pages_beside_their_images(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"")
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "notes.json").write_text("{}")  # no image of that name: not a page
    (tmp_path / "b.xml").write_text("<x/>")
    assert find_pages(tmp_path) == [tmp_path / "a.json", tmp_path / "b.xml"]


def test_evaluate_pages_cli_reports_detection_and_page_errors(tmp_path, tiny_model_file, capsys):
    pages = render_pages(tmp_path / "pages", "test", 2, seed=1, font_dir=FONT_DIR, vocabulary=None)
    code = evaluate_pages.main(
        [str(pages), "--model", str(tiny_model_file), "--threads", "1", "--no-progress", "--no-lm"]
        + ["--budget-seconds", "30"]
    )
    assert code == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert metrics["pages"] == 2
    assert 0.5 < metrics["f1"] <= 1.0
    assert metrics["budget_seconds"] == 30.0
    assert {
        "page_cer",
        "page_wer",
        "gt_lines_cer",
        "precision",
        "recall",
        "polygon_f1",
        "baseline_f1",
        "seconds_per_page_median",
        "seconds_per_page_worst",
        "partial_pages",
        "hallucinated_chars_mean",
    } <= set(metrics)
    assert set(metrics["stage_seconds_median"]) == {"preprocess", "segment", "recognize"}
