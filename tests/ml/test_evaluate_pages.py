import json

import pytest

from ml import evaluate_pages
from ml.evaluate_pages import match_lines, polygon_iou
from ml.synth.__main__ import render_pages
from tests.ml.conftest import FONT_DIR


def square(x, y, size=10):
    return ((x, y), (x + size, y), (x + size, y + size), (x, y + size))


def test_polygon_iou_of_overlapping_squares():
    assert polygon_iou(square(0, 0), square(0, 0)) == pytest.approx(1.0)
    assert polygon_iou(square(0, 0), square(5, 0)) == pytest.approx(50 / 150)
    assert polygon_iou(square(0, 0), square(20, 20)) == 0.0


def test_matching_is_one_to_one():
    truth = [square(0, 0), square(0, 20)]
    assert match_lines([square(0, 0), square(1, 0)], truth) == 1  # two guesses, one line
    assert match_lines([square(0, 0), square(0, 21)], truth) == 2


def test_evaluate_pages_cli_reports_detection_and_page_errors(tmp_path, tiny_model_file, capsys):
    pages = render_pages(tmp_path / "pages", "test", 2, seed=1, font_dir=FONT_DIR, vocabulary=None)
    code = evaluate_pages.main(
        [str(pages), "--model", str(tiny_model_file), "--threads", "1", "--no-progress"]
    )
    assert code == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert metrics["pages"] == 2
    assert 0.5 < metrics["f1"] <= 1.0
    assert {
        "page_cer",
        "page_wer",
        "gt_lines_cer",
        "precision",
        "recall",
        "seconds_per_page_median",
    } <= set(metrics)
    assert set(metrics["stage_seconds_median"]) == {"preprocess", "segment", "recognize"}
