"""What the line segmenter learns: each line's baseline and its core band, drawn from ground truth.

A line's *core band* is the strip between its baseline and its x-height: where the bodies of the
lowercase letters are. Bands of neighbouring lines are separated by the ascenders and descenders
between them, so each connected band is one line, even in dense cursive where line polygons
overlap. The band's bottom edge is the baseline; its thickness is the x-height, from which the
line's full extent (ascenders, descenders) follows.

Ground truth gives baselines (polylines) and polygons. The x-height is measured from the ink:
rows just above the baseline are dense with letter bodies, rows above the x-height hold only
ascenders, so the row profile of the ink drops there.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Point = tuple[float, float]

# An x-height is this share of the baseline-to-polygon-top distance when the ink says nothing.
FALLBACK_X_HEIGHT = 0.4
CORE_DROP = 0.3  # the core ends where the row profile falls below this share of its peak
SNAP_DENSITY = 0.5  # the bodies' bottom: the last row with this share of the peak's ink


@dataclass(frozen=True)
class LineTarget:
    baseline: tuple[Point, ...]  # left to right, image pixels
    x_height: float  # image pixels


@dataclass(frozen=True)
class PageTargets:
    lines: tuple[LineTarget, ...]
    ignore: tuple[tuple[Point, ...], ...] = ()  # polygons where text is neither line nor background
    # When given, only these polygons are known to be fully transcribed: outside them, text may
    # be a line nobody annotated, so nothing there is taught as background either.
    known: tuple[tuple[Point, ...], ...] = ()


def ink_profile(ink: np.ndarray, baseline: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Share of ink pixels along the baseline shifted by each offset (rows, + is down)."""
    h, w = ink.shape
    x0, x1 = int(max(0, baseline[:, 0].min())), int(min(w, baseline[:, 0].max()))
    if x1 - x0 < 4:
        return np.zeros(len(offsets), np.float32)
    xs = np.arange(x0, x1)
    ys = np.interp(xs, baseline[:, 0], baseline[:, 1])
    profile = np.zeros(len(offsets), np.float32)
    for i, offset in enumerate(offsets):
        rows = np.round(ys + offset).astype(int)
        inside = (rows >= 0) & (rows < h)
        profile[i] = ink[rows[inside], xs[inside]].mean() if inside.any() else 0.0
    return np.convolve(profile, np.ones(3) / 3, mode="same")


def snap_baseline(ink: np.ndarray, baseline: np.ndarray, height: float) -> np.ndarray:
    """The baseline moved onto the bottom of the letters' bodies.

    Annotators draw baselines a little above or below the ink, differently from one collection
    to the next; the segmenter should learn one convention. The bottom of the bodies is the
    lowest row, near the drawn baseline, still holding half the ink of the densest rows.
    """
    offsets = np.arange(-int(0.3 * height), int(0.3 * height) + 1)
    profile = ink_profile(ink, baseline, offsets - 0.5)
    if profile.size < 3 or profile.max() <= 0.02:
        return baseline
    dense = np.flatnonzero(profile >= SNAP_DENSITY * profile.max())
    return baseline + np.float32([0, offsets[dense[-1]]])


def estimate_x_height(ink: np.ndarray, baseline: np.ndarray, height: float) -> float:
    """The x-height of a line from its ink: where the row profile above the baseline drops.

    ink: (H, W) bool page ink; baseline: (N, 2) points; height: baseline-to-top of the line's
    polygon (the search range).
    """
    h, w = ink.shape
    reach = max(4, int(round(height)))
    x0, x1 = int(max(0, baseline[:, 0].min())), int(min(w, baseline[:, 0].max()))
    if x1 - x0 < 4:
        return FALLBACK_X_HEIGHT * height
    xs = np.arange(x0, x1)
    ys = np.interp(xs, baseline[:, 0], baseline[:, 1])
    profile = np.zeros(reach, np.float32)
    for r in range(reach):
        rows = np.round(ys - r - 1).astype(int)
        inside = (rows >= 0) & (rows < h)
        profile[r] = ink[rows[inside], xs[inside]].mean() if inside.any() else 0.0
    profile = np.convolve(profile, np.ones(3) / 3, mode="same")
    if profile.max() <= 0.02:
        return FALLBACK_X_HEIGHT * height
    peak = int(profile.argmax())
    low = np.flatnonzero(profile[peak:] < CORE_DROP * profile[peak])
    x_height = float(peak + low[0]) if low.size else FALLBACK_X_HEIGHT * height
    return float(np.clip(x_height, 0.15 * height, 0.7 * height))


def band_polygon(baseline: np.ndarray, x_height: float) -> np.ndarray:
    """(2N, 2) polygon of the core band: the baseline and the same points x_height above it,
    offset along the baseline's normal so slanted lines keep their thickness."""
    points = np.asarray(baseline, np.float32)
    if len(points) == 1:
        points = np.vstack([points, points + [1, 0]])
    direction = np.gradient(points, axis=0)
    direction /= np.maximum(np.linalg.norm(direction, axis=1, keepdims=True), 1e-6)
    normal = np.stack([direction[:, 1], -direction[:, 0]], axis=1)  # points up for left-to-right
    top = points + normal * x_height
    return np.vstack([points, top[::-1]])


def draw_targets(
    targets: PageTargets, shape: tuple[int, int], transform: np.ndarray, scale: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Band, baseline and ignore masks (uint8 0/1) of `shape`, for points mapped by the 2x3
    affine `transform` (which scales by `scale`)."""
    band = np.zeros(shape, np.uint8)
    base = np.zeros(shape, np.uint8)
    ignore = np.zeros(shape, np.uint8)
    for line in targets.lines:
        points = _apply(transform, np.asarray(line.baseline, np.float32))
        x_height = max(1.0, line.x_height * scale)
        cv2.fillPoly(band, [np.round(band_polygon(points, x_height)).astype(np.int32)], 1)
        thickness = max(1, int(round(x_height * 0.25)))
        cv2.polylines(base, [np.round(points).astype(np.int32)], False, 1, thickness)
    for polygon in targets.ignore:
        points = _apply(transform, np.asarray(polygon, np.float32))
        cv2.fillPoly(ignore, [np.round(points).astype(np.int32)], 1)
    if targets.known:
        known = np.zeros(shape, np.uint8)
        for polygon in targets.known:
            points = _apply(transform, np.asarray(polygon, np.float32))
            cv2.fillPoly(known, [np.round(points).astype(np.int32)], 1)
        ignore |= (known == 0) & (band == 0)
    return band, base, ignore


def _apply(transform: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ transform[:, :2].T + transform[:, 2]
