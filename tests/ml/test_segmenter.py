"""The line segmenter's parts: targets, lines from band maps, line regions and crops, order."""

import cv2
import numpy as np
import pytest
import torch

from ml.errors import CheckpointError
from ml.page.crops import cut_line, line_regions
from ml.page.linenet import LineNet, LineNetConfig, load_linenet, save_linenet
from ml.page.lines import DetectedLine, find_lines
from ml.page.order import reading_order
from ml.page.segmenter import LineSegmenter, default_segmenter
from ml.page.targets import LineTarget, PageTargets, draw_targets, estimate_x_height

IDENTITY = np.float32([[1, 0, 0], [0, 1, 0]])


def test_x_height_is_where_the_ink_above_the_baseline_thins_out():
    ink = np.zeros((100, 300), bool)
    ink[60:80, 20:280:3] = True  # letter bodies: 20 rows above the baseline at y=80
    ink[45:60, 30:280:25] = True  # a few ascenders above them
    baseline = np.float32([[20, 80], [280, 80]])
    assert estimate_x_height(ink, baseline, height=40) == pytest.approx(20, abs=2)


def test_targets_draw_a_band_above_the_baseline_and_ignore_regions():
    targets = PageTargets(
        (LineTarget(((10, 50), (90, 50)), 10.0),), ignore=(((0, 0), (20, 0), (20, 10), (0, 10)),)
    )
    band, base, ignore = draw_targets(targets, (100, 100), IDENTITY, 1.0)
    assert band[45, 50] and band[41, 50] and not band[55, 50] and not band[35, 50]
    assert base[50, 50] and not base[44, 50]
    assert ignore[5, 5] and not ignore[50, 50]


def band_map(shape, lines):
    """A probability map with a band per (x0, x1, baseline_y, x_height)."""
    probs = np.zeros(shape, np.float32)
    for x0, x1, y, h in lines:
        probs[y - h : y, x0:x1] = 0.95
    return probs


def test_each_band_is_a_line_with_its_baseline_and_x_height():
    probs = band_map((200, 400), [(20, 380, 50, 8), (20, 300, 100, 8), (40, 200, 150, 6)])
    lines = sorted(find_lines(probs), key=lambda line: line.baseline[0, 1])
    assert [round(float(np.median(line.baseline[:, 1]))) for line in lines] == [50, 100, 150]
    assert [round(line.x_height) for line in lines] == [8, 8, 6]
    assert lines[0].x0 == pytest.approx(20, abs=1) and lines[0].x1 == pytest.approx(380, abs=1)


def test_a_band_broken_by_a_faint_stretch_is_one_line_but_columns_stay_apart():
    # A 6-px break inside a line (< 1.5 x-heights) joins; a 60-px gutter does not.
    probs = band_map((100, 600), [(10, 200, 50, 8), (206, 280, 50, 8), (340, 590, 50, 8)])
    lines = sorted(find_lines(probs), key=lambda line: line.x0)
    assert [(round(line.x0), round(line.x1)) for line in lines] == [(10, 280), (340, 590)]


def test_specks_and_faint_candidates_are_not_lines():
    probs = band_map((100, 300), [(20, 26, 30, 6)])  # shorter than 1.2 x-heights
    probs[60:68, 20:280] = 0.55  # long but faint: mean probability below the score floor
    assert find_lines(probs) == []


def line(x0, x1, y, h):
    return DetectedLine(np.float32([[x0, y], [x1, y]]), float(h), 0.9)


def test_line_regions_reach_ascenders_but_stop_halfway_to_the_neighbour():
    lonely, upper, lower = line_regions(
        [line(0, 100, 100, 10), line(200, 300, 100, 10), line(200, 300, 130, 10)]
    )
    assert lonely.above.min() == pytest.approx(23) and lonely.below.min() == pytest.approx(13)
    # 30 px between baselines: the upper line's descenders and the lower one's ascenders share
    # the 20 px between the upper baseline and the lower line's x-height.
    assert upper.below.max() == pytest.approx(10)
    assert lower.above.max() == pytest.approx(20)


def test_cut_line_straightens_a_slanted_line():
    page = np.full((200, 400), 255, np.uint8)
    xs = np.arange(20, 380)
    ys = (60 + xs * 0.2).astype(int)  # a baseline rising 0.2 px per column
    for x, y in zip(xs, ys, strict=True):
        page[y - 8 : y, x] = 0  # an 8-px ink stroke on the baseline
    slanted = DetectedLine(np.float32([[20, 64], [379, 135.8]]), 8.0, 0.9)
    crop = cut_line(page, line_regions([slanted])[0])
    rows = np.flatnonzero((crop < 128).mean(axis=1) > 0.5)
    assert rows.size and rows.max() - rows.min() <= 9  # the stroke runs straight across


def test_margin_note_is_read_after_the_text_beside_it():
    body = [(300, y, 900, y + 20, f"body{y}") for y in range(100, 700, 50)]
    note = [(20, 200, 200, 220, "note1"), (20, 250, 180, 270, "note2")]
    ordered = [box[4] for _, box in reading_order(note + body, 20.0)]
    assert ordered == [b[4] for b in body] + ["note1", "note2"]


def test_two_real_columns_are_read_left_then_right():
    left = [(20, y, 400, y + 20, f"l{y}") for y in range(100, 600, 50)]
    right = [(500, y, 900, y + 20, f"r{y}") for y in range(100, 600, 50)]
    ordered = [box[4] for _, box in reading_order(right + left, 20.0)]
    assert ordered == [b[4] for b in left] + [b[4] for b in right]


def test_segmenter_file_round_trips_and_rejects_other_files(tmp_path):
    model = LineNet(LineNetConfig(widths=(4, 8), context_dilations=(2,)))
    save_linenet(tmp_path / "seg.pt", model, {"purpose": "test"}, half=True)
    loaded, metadata = load_linenet(tmp_path / "seg.pt")
    assert metadata["purpose"] == "test" and loaded.config == model.config
    torch.save({"format_version": 1}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a line segmenter"):
        load_linenet(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_linenet(tmp_path / "missing.pt")


def test_probabilities_cover_the_page_at_half_the_net_scale():
    model = LineNet(LineNetConfig(long_side=256, widths=(4, 8), context_dilations=(2,)))
    probs, scale = LineSegmenter(model, bf16=False).probabilities(
        np.full((300, 200), 255, np.uint8)
    )
    assert probs.shape == (2, 128, 86) and scale == pytest.approx(256 / 300 / 2)


def test_the_committed_segmenter_loads_once_per_process():
    assert default_segmenter() is default_segmenter()


def test_columns_stay_apart_when_one_line_crosses_the_gutter():
    left = [(20, y, 400, y + 20, f"l{y}") for y in range(100, 700, 50)]
    right = [(440, y, 900, y + 20, f"r{y}") for y in range(100, 700, 50)]
    crossing = (20, 720, 700, 740, "both")  # a line of each column read as one
    ordered = [box[4] for _, box in reading_order(right + left + [crossing], 20.0)]
    assert ordered[: len(left)] == [b[4] for b in left]
    assert ordered[-len(right) :] == [b[4] for b in right]


def test_a_steep_band_is_one_line_and_its_crop_lies_level():
    page = np.full((400, 400), 255, np.uint8)
    probs = np.zeros((400, 400), np.float32)
    start, end = np.float32([60, 340]), np.float32([340, 60])  # rising at 45 degrees
    normal = np.float32([-1, -1]) / np.sqrt(2)  # "up" from the baseline, across it
    band = np.float32([start, end, end + 10 * normal, start + 10 * normal])
    cv2.fillPoly(probs, [np.int32(np.round(band))], 0.95)
    cv2.fillPoly(page, [np.int32(np.round(band))], 0)  # the ink of the letters' bodies
    (found,) = find_lines(probs)
    assert found.angle == pytest.approx(-45, abs=3) and found.x_height == pytest.approx(10, abs=2)
    crop = cut_line(page, line_regions([found])[0])
    assert crop.shape[1] > 350  # the line's length, not its width on the page
    rows = np.flatnonzero((crop < 128).mean(axis=1) > 0.5)
    assert rows.size and rows.max() - rows.min() <= 12  # the ink runs straight across
