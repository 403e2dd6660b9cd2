"""Line regions and line images from baselines: how far each line reaches, and its straightened
image for the recognizer.

A line reaches `ASCENT` x-heights above its baseline (capitals, ascenders, accents) and
`DESCENT` below (descenders), but never past the middle of the space it shares with the line
above or below at the same column: in dense cursive the ascenders of one line meet the
descenders of the other, and each belongs to its own line. The line image is cut along the
baseline (each column shifted so the baseline is straight), so curved and slanted lines reach
the recognizer level, and pixels outside the line's region are paper. A steep line (more than
`STEEP` degrees) is measured and cut in a frame turned with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ml.page.lines import STEEP, DetectedLine
from ml.page.preprocess import flatten_lighting

ASCENT = 2.3  # x-heights above the baseline
DESCENT = 1.3  # x-heights below it
MIN_REACH = (1.4, 0.6)  # never clipped to less than this (above, below), in x-heights
SIDE_PAD = 0.6  # x-heights left and right: the band starts inside the first letter


@dataclass(frozen=True)
class LineRegion:
    """A line's reach along its baseline, in the line's own frame: the page turned by `angle`
    so that the line lies level (u along the line, v down across it)."""

    xs: np.ndarray  # (N,) sample positions u, left to right
    baseline: np.ndarray  # (N,) baseline v at xs
    above: np.ndarray  # (N,) reach above the baseline at xs
    below: np.ndarray  # (N,) reach below it
    angle: float = 0.0  # degrees, positive when the line falls to the right

    def to_page(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) frame points as page pixels."""
        return _turn(points, self.angle)

    def polygon(self) -> np.ndarray:
        """(2N, 2) outline, clockwise from the top-left, in page pixels."""
        top = np.stack([self.xs, self.baseline - self.above], axis=1)
        bottom = np.stack([self.xs, self.baseline + self.below], axis=1)
        return self.to_page(np.vstack([top, bottom[::-1]]).astype(np.float32))

    def baseline_points(self) -> np.ndarray:
        return self.to_page(np.stack([self.xs, self.baseline], axis=1))


def _turn(points: np.ndarray, degrees: float) -> np.ndarray:
    """Points rotated by `degrees` about the origin (frame -> page; -degrees: page -> frame)."""
    if not degrees:
        return np.asarray(points, np.float32)
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return (np.asarray(points, np.float32) @ np.float32([[c, s], [-s, c]])).astype(np.float32)


def line_regions(lines: Sequence[DetectedLine]) -> list[LineRegion]:
    """The region of every line, clipped against its neighbours above and below (those at
    about the same angle)."""
    angles = [line.angle if abs(line.angle) > STEEP else 0.0 for line in lines]
    regions = []
    for i, line in enumerate(lines):
        xs, ys, x_height = _extend(line, angles[i])
        above = np.full_like(ys, ASCENT * x_height)
        below = np.full_like(ys, DESCENT * x_height)
        for j, other in enumerate(lines):
            if j == i or abs(angles[j] - angles[i]) > STEEP:
                continue
            other_xs, other_ys, other_height = _extend(other, angles[i])
            if other_xs[-1] < xs[0] or other_xs[0] > xs[-1]:
                continue
            inside = (xs >= other_xs[0]) & (xs <= other_xs[-1])
            gap = ys - np.interp(xs, other_xs, other_ys)  # > 0: the other line is above
            near = inside & (np.abs(gap) < (ASCENT + DESCENT) * x_height * 1.5)
            up, down = near & (gap > 0), near & (gap < 0)
            above[up] = np.minimum(above[up], (gap[up] + x_height) / 2)
            below[down] = np.minimum(below[down], (-gap[down] - other_height) / 2)
        above = np.maximum(above, MIN_REACH[0] * x_height)
        below = np.maximum(below, MIN_REACH[1] * x_height)
        regions.append(LineRegion(xs, ys, above, below, angles[i]))
    return regions


def _extend(line: DetectedLine, angle: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Baseline samples every ~half x-height in the frame turned by `angle`, padded at both
    ends."""
    points = _turn(line.baseline, -angle)
    points = points[np.argsort(points[:, 0])]
    pad = SIDE_PAD * line.x_height
    x0, x1 = points[0, 0] - pad, points[-1, 0] + pad
    count = max(2, int(np.ceil((x1 - x0) / max(2.0, line.x_height / 2))) + 1)
    xs = np.linspace(x0, x1, count, dtype=np.float32)
    ys = np.interp(xs, points[:, 0], points[:, 1]).astype(np.float32)
    return xs, ys, float(line.x_height)


def cut_line(page: np.ndarray, region: LineRegion) -> np.ndarray:
    """The straightened line image (uint8, paper 255) of a region of a page (uint8, paper 255).

    Output row r of column u samples the page at the frame point (x0 + u, baseline - reach_up
    + r), turned back onto the page; pixels outside the region's reach at that column are paper.
    """
    x0, x1 = int(np.floor(region.xs[0])), int(np.ceil(region.xs[-1]))
    width = max(2, x1 - x0)
    up, down = float(region.above.max()), float(region.below.max())
    height = max(2, int(np.ceil(up + down)))
    columns = np.arange(width, dtype=np.float32) + x0
    baseline = np.interp(columns, region.xs, region.baseline).astype(np.float32)
    rows = np.arange(height, dtype=np.float32)[:, None]
    frame_u = np.broadcast_to(columns, (height, width))
    frame_v = baseline[None, :] - up + rows
    page_points = region.to_page(np.stack([frame_u.ravel(), frame_v.ravel()], axis=1))
    map_x = page_points[:, 0].reshape(height, width)
    map_y = page_points[:, 1].reshape(height, width)
    line = cv2.remap(
        page, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255
    )
    reach_up = np.interp(columns, region.xs, region.above)
    reach_down = np.interp(columns, region.xs, region.below)
    offset = rows - up  # row's distance below the baseline
    outside = (offset < -reach_up[None, :]) | (offset > reach_down[None, :])
    line[outside] = 255
    return line


def flat_page(gray: np.ndarray) -> np.ndarray:
    """The page with its lighting flattened (paper 255), as the page pipeline cuts lines from."""
    return (flatten_lighting(gray) * 255).astype(np.uint8)


def polygon_crop(page: np.ndarray, polygon) -> np.ndarray | None:
    """A line's image: its polygon's box, paper-white outside the polygon; None when empty.

    For lines known only by their polygon (ground truth, a person's corrections, another
    segmenter's output). A slanted line's box takes in its neighbours' ascenders and
    descenders; its polygon (as eScriptorium and kraken draw them) leaves them out.
    """
    h, w = page.shape
    points = np.round(np.asarray(polygon, np.float64).reshape(-1, 2)).astype(np.int32)
    x0, y0 = np.maximum(points.min(axis=0), 0)
    x1, y1 = np.minimum(points.max(axis=0) + 1, (w, h))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    crop = page[y0:y1, x0:x1].copy()
    inside = np.zeros(crop.shape, np.uint8)
    cv2.fillPoly(inside, [points - (x0, y0)], 1)
    crop[inside == 0] = 255
    return crop
