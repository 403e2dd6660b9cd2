"""Character and word error rates, corpus-level; how well text lines were found on a page.

CER = total edit distance / total reference characters over the whole corpus (not a mean of
per-line rates), WER the same over whitespace-separated words. Both texts are NFC-normalized with
whitespace collapsed first; scoring is case-sensitive.

Line detection is scored two ways that do not depend on how tall line polygons are drawn
(annotation tools disagree: eScriptorium's reach well above and below the ink, ours hug it):
- ink IoU: the IoU of the *ink pixels* two polygons cover, so the paper around a line is ignored;
- baselines (a simplified ICDAR cBAD): points along a baseline count when they lie within a
  tolerance (a quarter of the line spacing) of a baseline of the other side.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from rapidfuzz.distance import Levenshtein

from ml.charset import collapse_whitespace


@dataclass
class ErrorCounter:
    """Accumulates edit distances line by line."""

    char_edits: int = 0
    chars: int = 0
    word_edits: int = 0
    words: int = 0
    lines: int = 0

    def add(self, hypothesis: str, reference: str) -> None:
        hyp, ref = collapse_whitespace(hypothesis), collapse_whitespace(reference)
        self.char_edits += Levenshtein.distance(hyp, ref)
        self.chars += len(ref)
        hyp_words, ref_words = hyp.split(), ref.split()
        self.word_edits += Levenshtein.distance(hyp_words, ref_words)
        self.words += len(ref_words)
        self.lines += 1

    def merge(self, other: ErrorCounter) -> None:
        """Add another counter's totals to this one."""
        self.char_edits += other.char_edits
        self.chars += other.chars
        self.word_edits += other.word_edits
        self.words += other.words
        self.lines += other.lines

    @property
    def cer(self) -> float:
        return self.char_edits / max(self.chars, 1)

    @property
    def wer(self) -> float:
        return self.word_edits / max(self.words, 1)


def error_rates(hypotheses: Iterable[str], references: Iterable[str]) -> tuple[float, float]:
    """(CER, WER) of paired hypotheses and references."""
    counter = ErrorCounter()
    for hyp, ref in zip(hypotheses, references, strict=True):
        counter.add(hyp, ref)
    return counter.cer, counter.wer


Polygon = Sequence[tuple[float, float]]
# Baseline points are sampled this often (pixels of the scoring image) along each polyline.
BASELINE_STEP = 2.0
BASELINE_TOLERANCE = 0.25  # share of the line spacing within which a baseline point counts


@dataclass
class DetectionCounter:
    """Found items summed over pages, each side counted on its own (P and R may differ).

    For one-to-one line matching, both hit counts are the number of matched pairs; for baselines
    they are the predicted points near a true baseline and the true points near a predicted one.
    """

    predicted: float = 0
    predicted_hits: float = 0
    true: float = 0
    true_hits: float = 0

    def merge(self, other: DetectionCounter) -> None:
        """Add another counter's totals to this one."""
        self.predicted += other.predicted
        self.predicted_hits += other.predicted_hits
        self.true += other.true
        self.true_hits += other.true_hits

    @property
    def precision(self) -> float | None:
        """None when nothing was predicted (a blank page read as blank has no precision)."""
        return self.predicted_hits / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.true_hits / self.true if self.true else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0


def match_one_to_one(scores: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Pairs (row, column) of a score matrix at or above threshold, best first, each used once."""
    rows, cols = np.nonzero(scores >= threshold)
    order = np.argsort(-scores[rows, cols], kind="stable")
    used_rows, used_cols, pairs = set(), set(), []
    for i, j in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if i not in used_rows and j not in used_cols:
            used_rows.add(i)
            used_cols.add(j)
            pairs.append((i, j))
    return pairs


def polygon_iou(a, b) -> float:
    """IoU of the convex hulls of two polygons."""
    hull_a = cv2.convexHull(np.float32(a))
    hull_b = cv2.convexHull(np.float32(b))
    area_a, area_b = cv2.contourArea(hull_a), cv2.contourArea(hull_b)
    if area_a <= 0 or area_b <= 0:
        return 0.0
    intersection, _ = cv2.intersectConvexConvex(hull_a, hull_b)
    return float(intersection / (area_a + area_b - intersection))


def polygon_ink(ink: np.ndarray, polygon: Polygon) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """The ink pixels inside a polygon: its clipped box (x0, y0, x1, y1) and the mask there.

    Points are in the ink image's pixels; any number of points, self-intersections allowed.
    """
    h, w = ink.shape
    points = np.round(np.asarray(polygon, np.float64).reshape(-1, 2)).astype(np.int32)
    if len(points) < 3:
        return (0, 0, 0, 0), np.zeros((0, 0), bool)
    x0, y0 = np.maximum(points.min(axis=0), 0)
    x1, y1 = np.minimum(points.max(axis=0) + 1, (w, h))
    if x1 <= x0 or y1 <= y0:
        return (0, 0, 0, 0), np.zeros((0, 0), bool)
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(inside, [points - (x0, y0)], 1)
    return (int(x0), int(y0), int(x1), int(y1)), (inside == 1) & ink[y0:y1, x0:x1]


def _overlap(a, b) -> tuple[int, int, int, int] | None:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _window(box, mask, window) -> np.ndarray:
    x0, y0, x1, y1 = window
    return mask[y0 - box[1] : y1 - box[1], x0 - box[0] : x1 - box[0]]


def ink_iou_matrix(ink: np.ndarray, predicted: list[Polygon], truth: list[Polygon]) -> np.ndarray:
    """(P, T) IoU of the ink each pair of polygons covers: |ink∩P∩T| / |ink∩(P∪T)|.

    Only pairs whose boxes overlap are rasterized together; the rest are 0.
    """
    pred = [polygon_ink(ink, p) for p in predicted]
    true = [polygon_ink(ink, t) for t in truth]
    pred_counts = [int(m.sum()) for _, m in pred]
    true_counts = [int(m.sum()) for _, m in true]
    scores = np.zeros((len(pred), len(true)))
    for i, (box_p, mask_p) in enumerate(pred):
        for j, (box_t, mask_t) in enumerate(true):
            window = _overlap(box_p, box_t)
            if window is None or not pred_counts[i] or not true_counts[j]:
                continue
            shared = int((_window(box_p, mask_p, window) & _window(box_t, mask_t, window)).sum())
            scores[i, j] = shared / (pred_counts[i] + true_counts[j] - shared)
    return scores


def line_spacing(baselines: list[Polygon]) -> float | None:
    """Median vertical distance from each baseline to its nearest neighbour above or below.

    Neighbours must overlap horizontally (columns side by side are not a line pitch). None when
    no baseline has such a neighbour.
    """
    spans = [np.asarray(b, np.float64).reshape(-1, 2) for b in baselines if len(b)]
    gaps = []
    for i, a in enumerate(spans):
        nearest = [
            abs(b[:, 1].mean() - a[:, 1].mean())
            for j, b in enumerate(spans)
            if j != i and min(a[:, 0].max(), b[:, 0].max()) > max(a[:, 0].min(), b[:, 0].min())
        ]
        nearest = [g for g in nearest if g > 0]
        if nearest:
            gaps.append(min(nearest))
    return float(np.median(gaps)) if gaps else None


def sample_polyline(polyline: Polygon, step: float = BASELINE_STEP) -> np.ndarray:
    """(N, 2) points every `step` pixels along a polyline, its ends included."""
    points = np.asarray(polyline, np.float64).reshape(-1, 2)
    if len(points) < 2:
        return points
    samples = [points[:1]]
    for a, b in zip(points[:-1], points[1:], strict=True):
        count = max(1, int(np.ceil(np.linalg.norm(b - a) / step)))
        t = np.arange(1, count + 1)[:, None] / count
        samples.append(a + (b - a) * t)
    return np.concatenate(samples)


def _hits(points: np.ndarray, distance: np.ndarray, tolerance: float) -> int:
    """How many points lie within tolerance of the polylines a distance map was made from."""
    if not len(points):
        return 0
    h, w = distance.shape
    xs = np.clip(np.round(points[:, 0]).astype(int), 0, w - 1)
    ys = np.clip(np.round(points[:, 1]).astype(int), 0, h - 1)
    return int((distance[ys, xs] <= tolerance).sum())


def _distance_to(polylines: list[Polygon], shape: tuple[int, int]) -> np.ndarray:
    """Per pixel, the distance to the nearest of the polylines (infinite when there are none)."""
    canvas = np.full(shape, 255, np.uint8)
    for line in polylines:
        points = np.round(np.asarray(line, np.float64).reshape(-1, 2)).astype(np.int32)
        if len(points):
            cv2.polylines(canvas, [points], False, 0, 1)
    if canvas.all():
        return np.full(shape, np.inf, np.float32)
    return cv2.distanceTransform(canvas, cv2.DIST_L2, 5)


def baseline_detection(
    predicted: list[Polygon], truth: list[Polygon], shape: tuple[int, int], tolerance: float
) -> DetectionCounter:
    """Baseline points within tolerance of the other side's baselines (simplified cBAD).

    Precision: the share of points along predicted baselines near a true baseline; recall: the
    share of points along true baselines near a predicted one. Points are in pixels of an image
    of `shape` (H, W); the scores do not depend on polygons at all.
    """
    pred_points = [sample_polyline(p) for p in predicted]
    true_points = [sample_polyline(t) for t in truth]
    to_truth, to_predicted = _distance_to(truth, shape), _distance_to(predicted, shape)
    return DetectionCounter(
        predicted=sum(len(p) for p in pred_points),
        predicted_hits=sum(_hits(p, to_truth, tolerance) for p in pred_points),
        true=sum(len(t) for t in true_points),
        true_hits=sum(_hits(t, to_predicted, tolerance) for t in true_points),
    )
