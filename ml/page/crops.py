"""Line regions and line images from baselines: how far each line reaches, and its straightened
image for the recognizer.

A line reaches `ASCENT` x-heights above its baseline (capitals, ascenders, accents) and
`DESCENT` below (descenders), but never past the middle of the space it shares with the line
above or below at the same column: in dense cursive the ascenders of one line meet the
descenders of the other, and each belongs to its own line. The line image is cut along the
baseline (each column shifted so the baseline is straight), so curved and slanted lines reach
the recognizer level, and pixels outside the line's region are paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ml.page.lines import DetectedLine

ASCENT = 2.3  # x-heights above the baseline
DESCENT = 1.3  # x-heights below it
MIN_REACH = (1.4, 0.6)  # never clipped to less than this (above, below), in x-heights
SIDE_PAD = 0.6  # x-heights left and right: the band starts inside the first letter


@dataclass(frozen=True)
class LineRegion:
    xs: np.ndarray  # (N,) sample columns, left to right
    baseline: np.ndarray  # (N,) baseline rows at xs
    above: np.ndarray  # (N,) reach above the baseline at xs
    below: np.ndarray  # (N,) reach below it

    def polygon(self) -> np.ndarray:
        """(2N, 2) outline, clockwise from the top-left, in page pixels."""
        top = np.stack([self.xs, self.baseline - self.above], axis=1)
        bottom = np.stack([self.xs, self.baseline + self.below], axis=1)
        return np.vstack([top, bottom[::-1]]).astype(np.float32)

    @property
    def box(self) -> tuple[int, int, int, int]:
        outline = self.polygon()
        x0, y0 = np.floor(outline.min(axis=0)).astype(int)
        x1, y1 = np.ceil(outline.max(axis=0)).astype(int)
        return int(x0), int(y0), int(x1), int(y1)


def line_regions(lines: Sequence[DetectedLine]) -> list[LineRegion]:
    """The region of every line, clipped against its neighbours above and below."""
    extended = [_extend(line) for line in lines]
    regions = []
    for i, (xs, ys, x_height) in enumerate(extended):
        above = np.full_like(ys, ASCENT * x_height)
        below = np.full_like(ys, DESCENT * x_height)
        for j, (other_xs, other_ys, other_height) in enumerate(extended):
            if j == i or other_xs[-1] < xs[0] or other_xs[0] > xs[-1]:
                continue
            inside = (xs >= other_xs[0]) & (xs <= other_xs[-1])
            other = np.interp(xs, other_xs, other_ys)
            gap = ys - other  # > 0: the other line is above
            up = inside & (gap > 0) & (gap < (ASCENT + DESCENT) * x_height * 1.5)
            down = inside & (gap < 0) & (-gap < (ASCENT + DESCENT) * x_height * 1.5)
            above[up] = np.minimum(above[up], (gap[up] + x_height) / 2)
            below[down] = np.minimum(below[down], (-gap[down] - other_height) / 2)
        above = np.maximum(above, MIN_REACH[0] * x_height)
        below = np.maximum(below, MIN_REACH[1] * x_height)
        regions.append(LineRegion(xs, ys, above, below))
    return regions


def _extend(line: DetectedLine) -> tuple[np.ndarray, np.ndarray, float]:
    """Baseline samples every ~half x-height, padded left and right."""
    pad = SIDE_PAD * line.x_height
    x0, x1 = line.x0 - pad, line.x1 + pad
    count = max(2, int(np.ceil((x1 - x0) / max(2.0, line.x_height / 2))) + 1)
    xs = np.linspace(x0, x1, count, dtype=np.float32)
    ys = np.interp(xs, line.baseline[:, 0], line.baseline[:, 1]).astype(np.float32)
    return xs, ys, float(line.x_height)


def cut_line(page: np.ndarray, region: LineRegion) -> np.ndarray:
    """The straightened line image (uint8, paper 255) of a region of a page (uint8, paper 255).

    Output row r of column u samples the page at (x0 + u, baseline(x0 + u) - reach_up + r);
    pixels outside the region's reach at that column are paper.
    """
    x0, x1 = int(np.floor(region.xs[0])), int(np.ceil(region.xs[-1]))
    width = max(2, x1 - x0)
    up, down = float(region.above.max()), float(region.below.max())
    height = max(2, int(np.ceil(up + down)))
    columns = np.arange(width, dtype=np.float32) + x0
    baseline = np.interp(columns, region.xs, region.baseline).astype(np.float32)
    rows = np.arange(height, dtype=np.float32)[:, None]
    map_x = np.broadcast_to(columns, (height, width)).astype(np.float32)
    map_y = (baseline[None, :] - up + rows).astype(np.float32)
    line = cv2.remap(
        page, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255
    )
    reach_up = np.interp(columns, region.xs, region.above)
    reach_down = np.interp(columns, region.xs, region.below)
    offset = rows - up  # row's distance below the baseline
    outside = (offset < -reach_up[None, :]) | (offset > reach_down[None, :])
    line[outside] = 255
    return line
