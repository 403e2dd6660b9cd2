"""From the segmenter's band probabilities to lines: baseline polylines with their x-heights.

Each connected region of the thresholded core-band map is a line candidate; its bottom edge is
the baseline and its thickness the x-height. Candidates the net broke in two (a faint stretch
of a long line) are joined when they continue each other on the same baseline; candidates too
small to hold a character or too faint are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

THRESHOLD = 0.5  # band probability
MIN_SCORE = 0.75  # mean band probability of a kept line (true lines: 0.85 and more)
MIN_LENGTH = 1.8  # x-heights: shorter candidates are specks or stray marks, not a word
JOIN_GAP = 1.2  # x-heights: a gap this small on the same baseline is inside one line
SHORT = 2.5  # x-heights: a piece this short (a bullet, a dash) joins whatever its x-height
JOIN_DRIFT = 0.45  # x-heights: baselines this close in height continue each other
SHORT_DRIFT = 0.7  # x-heights: a dash sits mid-height, above the baseline of its line
MAX_CANDIDATES = 400  # a pathological page keeps its most confident candidates only
STEEP = 10.0  # degrees: a component slanting more is levelled before it is measured


@dataclass(frozen=True)
class DetectedLine:
    baseline: np.ndarray  # (N, 2) float32, left to right, in band-map pixels
    x_height: float  # band-map pixels
    score: float  # mean band probability

    @property
    def x0(self) -> float:
        return float(self.baseline[0, 0])

    @property
    def x1(self) -> float:
        return float(self.baseline[-1, 0])

    @property
    def length(self) -> float:
        return float(np.linalg.norm(np.diff(self.baseline, axis=0), axis=1).sum())

    @property
    def angle(self) -> float:
        """Degrees from the horizontal, positive when the line falls to the right."""
        dx, dy = self.baseline[-1] - self.baseline[0]
        return float(np.degrees(np.arctan2(dy, dx)))


def find_lines(band: np.ndarray, threshold: float = THRESHOLD) -> list[DetectedLine]:
    """Lines of a band probability map (H, W) in [0, 1], unordered."""
    mask = (band > threshold).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    order = np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:MAX_CANDIDATES] + 1
    candidates = []
    for label in order:
        x, y, w, h, area = stats[label]
        if area < 6:
            continue
        line = _component_line(labels[y : y + h, x : x + w] == label, band[y : y + h, x : x + w])
        if line is not None:
            candidates.append(_shift(line, x, y))
    lines = _join(candidates)
    return [
        line
        for line in lines
        if line.score >= MIN_SCORE and line.length >= MIN_LENGTH * line.x_height
    ]


def _component_line(mask: np.ndarray, probs: np.ndarray) -> DetectedLine | None:
    """Baseline (bottom edge, smoothed) and x-height (median thickness) of one component.

    A steep component (a note written askew in a corner) is measured turned level, and its
    baseline turned back.
    """
    angle = _orientation(mask)
    if abs(angle) <= STEEP:
        return _level_line(mask, probs)
    h, w = mask.shape
    rotation = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]) @ rotation[:, :2].T + rotation[:, 2]
    shift = -corners.min(axis=0)
    rotation[:, 2] += shift
    size = tuple(int(np.ceil(v)) + 1 for v in corners.max(axis=0) + shift)
    level = cv2.warpAffine(mask.astype(np.uint8), rotation, size, flags=cv2.INTER_NEAREST) > 0
    level_probs = cv2.warpAffine(probs, rotation, size, flags=cv2.INTER_LINEAR)
    line = _level_line(level, level_probs)
    if line is None:
        return None
    back = cv2.invertAffineTransform(rotation)
    baseline = (line.baseline @ back[:, :2].T + back[:, 2]).astype(np.float32)
    return DetectedLine(baseline, line.x_height, line.score)


def _orientation(mask: np.ndarray) -> float:
    """Degrees of the component's long axis from the horizontal (OpenCV's sign: anticlockwise
    positive, so rotating by it levels the component)."""
    moments = cv2.moments(mask.astype(np.uint8), binaryImage=True)
    if moments["m00"] < 2:
        return 0.0
    angle = 0.5 * np.arctan2(2 * moments["mu11"], moments["mu20"] - moments["mu02"])
    return float(np.degrees(angle))


def _level_line(mask: np.ndarray, probs: np.ndarray) -> DetectedLine | None:
    """`_component_line` of a component lying (nearly) level."""
    columns = np.flatnonzero(mask.any(axis=0))
    if columns.size < 2:
        return None
    rows = np.arange(mask.shape[0])[:, None]
    filled = mask[:, columns]
    bottom = np.where(filled, rows, -1).max(axis=0) + 1.0
    top = np.where(filled, rows, mask.shape[0]).min(axis=0).astype(np.float32)
    x_height = float(np.median(bottom - top))
    step = max(2, int(round(x_height)))
    xs, ys = [], []
    for start in range(0, columns.size, step):
        chunk = slice(start, min(columns.size, start + step))
        xs.append(float(columns[chunk].mean()))
        ys.append(float(np.median(bottom[chunk])))
    xs[0], xs[-1] = float(columns[0]), float(columns[-1]) + 1.0
    if len(xs) == 1:
        xs, ys = [float(columns[0]), float(columns[-1]) + 1.0], [ys[0], ys[0]]
    ys = _smooth(np.float32(ys))
    score = float(probs[mask].mean())
    return DetectedLine(np.stack([np.float32(xs), ys], axis=1), max(1.0, x_height), score)


def _smooth(values: np.ndarray) -> np.ndarray:
    """A running median of 3 then mean of 3: a baseline bends slowly, its samples jitter."""
    if values.size < 3:
        return values
    padded = np.pad(values, 1, mode="edge")
    median = np.median(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)
    padded = np.pad(median, 1, mode="edge")
    return ((padded[:-2] + padded[1:-1] + padded[2:]) / 3).astype(np.float32)


def _shift(line: DetectedLine, dx: float, dy: float) -> DetectedLine:
    return DetectedLine(line.baseline + np.float32([dx, dy]), line.x_height, line.score)


def _join(lines: list[DetectedLine]) -> list[DetectedLine]:
    """Join candidates that continue each other, left to right: each candidate extends the
    line it best continues (closest baseline), or starts a new one. O(n^2) in candidates."""
    joined: list[DetectedLine] = []
    for candidate in sorted(lines, key=lambda line: line.x0):
        best, best_drift = None, np.inf
        for i, line in enumerate(joined):
            if _continues(line, candidate):
                drift = abs(line.baseline[-1, 1] - candidate.baseline[0, 1])
                if drift < best_drift:
                    best, best_drift = i, drift
        if best is None:
            joined.append(candidate)
        else:
            joined[best] = _merge(joined[best], candidate)
    return joined


def _continues(left: DetectedLine, right: DetectedLine) -> bool:
    x_height = max(left.x_height, right.x_height)
    gap = right.x0 - left.x1
    if not -0.5 * x_height <= gap <= JOIN_GAP * x_height:
        return False
    # A bullet or a dash has no x-height of its own; words of one line share theirs.
    short = min(left.x1 - left.x0, right.x1 - right.x0) < SHORT * x_height
    if not short and not 0.6 <= left.x_height / right.x_height <= 1.6:
        return False
    drift = abs(left.baseline[-1, 1] - right.baseline[0, 1])
    return drift <= (SHORT_DRIFT if short else JOIN_DRIFT) * x_height


def _merge(left: DetectedLine, right: DetectedLine) -> DetectedLine:
    points = np.vstack([left.baseline, right.baseline[right.baseline[:, 0] > left.x1]])
    weights = np.float32([left.x1 - left.x0, right.x1 - right.x0]) + 1.0
    # The x-height is the longer piece's: a bullet's band says little about the line's.
    x_height = left.x_height if weights[0] >= weights[1] else right.x_height
    score = float(np.average([left.score, right.score], weights=weights))
    return DetectedLine(points, x_height, score)
