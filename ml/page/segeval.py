"""Line detection scores of the segmenter alone, on prepared pages (`ml.page.segdata`).

A detected line matches a true one when they span mostly the same columns (their horizontal
overlap is at least half of their union) and their baselines run together there (median
vertical distance at most half the true x-height); one-to-one, largest overlap first.
Detected lines lying mostly in an unannotated region (a printed header nobody transcribed) are
not counted. The page benchmark (`ml.evaluate_pages`) scores the whole pipeline on line
polygons instead; this score is for choosing among trained segmenters quickly.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ml.page.lines import DetectedLine
from ml.page.segdata import SegPage

MIN_OVERLAP = 0.5  # share of the union of the two lines' column spans
MAX_DISTANCE = 0.5  # x-heights between the baselines


def evaluate_lines(segmenter, pages: Sequence[SegPage]) -> dict:
    """Precision, recall and F1 of line detection over `pages`."""
    predicted = true = matched = 0
    for page in pages:
        p, t, m = score_page(page, segmenter.find_lines(page.image))
        predicted, true, matched = predicted + p, true + t, matched + m
    precision, recall = matched / max(predicted, 1), matched / max(true, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "true": true,
        "predicted": predicted,
    }


def score_page(page: SegPage, lines: Sequence[DetectedLine]) -> tuple[int, int, int]:
    """(predicted, true, matched) line counts of one page."""
    truth = [(np.float32(t.baseline), t.x_height) for t in page.targets.lines]
    found = [line for line in lines if not _mostly_ignored(page, line)]
    pairs = []
    for i, line in enumerate(found):
        for j, (baseline, x_height) in enumerate(truth):
            overlap = baseline_overlap(line.baseline, baseline, x_height)
            if overlap:
                pairs.append((overlap, i, j))
    used_found, used_truth = set(), set()
    for _, i, j in sorted(pairs, reverse=True):
        if i not in used_found and j not in used_truth:
            used_found.add(i)
            used_truth.add(j)
    return len(found), len(truth), len(used_found)


def baseline_overlap(found: np.ndarray, truth: np.ndarray, x_height: float) -> float:
    """The shared share of the column spans if the baselines match there, else 0."""
    lo, hi = max(found[0, 0], truth[0, 0]), min(found[-1, 0], truth[-1, 0])
    union = max(found[-1, 0], truth[-1, 0]) - min(found[0, 0], truth[0, 0])
    if hi <= lo or union <= 0 or (hi - lo) / union < MIN_OVERLAP:
        return 0.0
    xs = np.linspace(lo, hi, 16)
    distance = np.median(np.abs(np.interp(xs, *found.T) - np.interp(xs, *truth.T)))
    return float((hi - lo) / union) if distance <= MAX_DISTANCE * x_height else 0.0


def _mostly_ignored(page: SegPage, line: DetectedLine) -> bool:
    """Whether most of a line lies where text is unannotated (see `PageTargets`)."""
    if not page.targets.ignore and not page.targets.known:
        return False
    xs = np.linspace(line.x0, line.x1, 16)
    ys = np.interp(xs, *line.baseline.T) - line.x_height / 2
    points = list(zip(xs.tolist(), ys.tolist(), strict=True))
    ignored = [_inside_any(page.targets.ignore, p) for p in points]
    if page.targets.known:
        outside = [not _inside_any(page.targets.known, p) for p in points]
        ignored = [a or b for a, b in zip(ignored, outside, strict=True)]
    return sum(ignored) > len(points) / 2


def _inside_any(polygons, point) -> bool:
    return any(cv2.pointPolygonTest(np.float32(poly), point, False) >= 0 for poly in polygons)
