"""Geometry of line regions for structural corrections: checking a drawn polygon, cutting a
region in two along its baseline, and the hull of two regions.

Points are [x, y] in page image pixels, stored as integers (as the recognizer stores them).
Pure functions: `revisions` calls them and turns `RegionInvalid` into a user's error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import pairwise

from recognition.exceptions import RecognitionAppError

MIN_POINTS = 3
MAX_POINTS = 2000
# How far outside the image a drawn point may lie (a finger or a mouse overshoots the edge):
# this share of the image's larger side, at least TOLERANCE_MIN_PX; such points are clamped.
TOLERANCE = 0.02
TOLERANCE_MIN_PX = 4

ERROR_SHAPE = "A region is a list of [x, y] points."
ERROR_POINTS = "The region has {count:,} points; it needs {low} to {high:,}."
ERROR_NUMBER = "Point {index} of the region is not a pair of finite numbers."
ERROR_OUTSIDE = ("Point {index} of the region ({x:g}, {y:g}) lies outside the page image "
                 "({width} × {height} pixels).")
ERROR_FLAT = "The region has no area: draw around the line."

Point = list[int]


class RegionInvalid(RecognitionAppError):
    """A region sent for a line is not a polygon on its page."""

    field = "polygon"


def polygon_check(polygon, *, width: int, height: int) -> list[Point]:
    """The polygon as stored: 3–2000 finite points within the image (clamped, rounded)."""
    if not isinstance(polygon, (list, tuple)):
        raise RegionInvalid(ERROR_SHAPE)
    if not MIN_POINTS <= len(polygon) <= MAX_POINTS:
        raise RegionInvalid(ERROR_POINTS.format(count=len(polygon), low=MIN_POINTS,
                                                high=MAX_POINTS))
    slack = max(TOLERANCE * max(width, height), TOLERANCE_MIN_PX)
    points: list[Point] = []
    for index, point in enumerate(polygon, start=1):
        if not (isinstance(point, (list, tuple)) and len(point) == 2
                and all(_is_number(v) for v in point)):
            raise RegionInvalid(ERROR_NUMBER.format(index=index))
        x, y = float(point[0]), float(point[1])
        if not (-slack <= x <= width + slack and -slack <= y <= height + slack):
            raise RegionInvalid(ERROR_OUTSIDE.format(index=index, x=x, y=y, width=width,
                                                     height=height))
        points.append([round(min(max(x, 0.0), width)), round(min(max(y, 0.0), height))])
    xs, ys = {p[0] for p in points}, {p[1] for p in points}
    if len(xs) < 2 or len(ys) < 2:
        raise RegionInvalid(ERROR_FLAT)
    return points


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def box(points: Sequence[Sequence[float]]) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) of the points, or None without points."""
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _cut(polygon, baseline, fraction: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where and along which direction to cut: the point `fraction` of the way along the
    baseline (its local direction), or along the box's width when there is no baseline."""
    segments = [(a, b) for a, b in pairwise(baseline) if math.dist(a, b) > 0]
    if segments:
        goal, index = fraction * sum(math.dist(a, b) for a, b in segments), 0
        while index < len(segments) - 1 and goal > math.dist(*segments[index]):
            goal -= math.dist(*segments[index])
            index += 1
        a, b = segments[index]
        length = math.dist(a, b)
        t = min(max(goal / length, 0.0), 1.0)
        point = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
        return point, ((b[0] - a[0]) / length, (b[1] - a[1]) / length)
    x0, y0, x1, y1 = box(polygon)
    return (x0 + fraction * (x1 - x0), (y0 + y1) / 2), (1.0, 0.0)


def _side(point, direction, keep_before: bool) -> Callable[[Sequence[float]], float]:
    """How far a point lies on the kept side of the cut (negative: on the other side)."""
    sign = -1.0 if keep_before else 1.0

    def side(p) -> float:
        return sign * ((p[0] - point[0]) * direction[0] + (p[1] - point[1]) * direction[1])

    return side


def _crossing(a, b, side) -> list[float]:
    s0, s1 = side(a), side(b)
    t = s0 / (s0 - s1)
    return [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]


def _clip(points, side, closed: bool) -> list[list[float]]:
    """Sutherland–Hodgman against one half-plane: the part of a polygon (`closed`) or of a
    polyline on the kept side of the cut, the points where it crosses the cut included."""
    out: list[list[float]] = []
    for i, current in enumerate(points):
        if i or closed:
            previous = points[i - 1]
            if (side(previous) >= 0) != (side(current) >= 0):
                out.append(_crossing(previous, current, side))
        if side(current) >= 0:
            out.append(list(current))
    return out


def _rounded(points) -> list[Point]:
    result: list[Point] = []
    for x, y in points:
        p = [round(x), round(y)]
        if not result or result[-1] != p:
            result.append(p)
    if len(result) > 1 and result[0] == result[-1]:
        result.pop()
    return result


def region_split(polygon: list, baseline: list,
                 fraction: float) -> tuple[tuple[list, list], tuple[list, list]]:
    """Cut a line's region where `fraction` of its text ends: ((polygon, baseline) before the
    cut, (polygon, baseline) after it). The cut runs across the baseline at the point that far
    along it (along the box without a baseline); the two polygons share the cut edge, so
    together they cover the old one. A line without a region gives two without one."""
    if len(polygon) < MIN_POINTS:
        return ([], []), ([], [])
    point, direction = _cut(polygon, baseline, fraction)
    halves = []
    for keep_before in (True, False):
        side = _side(point, direction, keep_before)
        part = _rounded(_clip(polygon, side, closed=True))
        line = _rounded(_clip(baseline, side, closed=False))
        halves.append((part if len(part) >= MIN_POINTS else [], line if len(line) >= 2 else []))
    return halves[0], halves[1]


def hull(points: Sequence[Sequence[float]]) -> list[Point]:
    """The convex hull of the points (Andrew's monotone chain), counter-clockwise in image
    coordinates; [] for fewer than three distinct points."""
    unique = sorted({(round(p[0]), round(p[1])) for p in points})
    if len(unique) < MIN_POINTS:
        return []

    def cross(o, a, b) -> int:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    chains = []
    for sequence in (unique, unique[::-1]):
        chain: list[tuple[int, int]] = []
        for p in sequence:
            while len(chain) >= 2 and cross(chain[-2], chain[-1], p) <= 0:
                chain.pop()
            chain.append(p)
        chains.append(chain[:-1])
    result = [list(p) for p in chains[0] + chains[1]]
    return result if len(result) >= MIN_POINTS else []


def regions_merge(first: tuple[list, list], second: tuple[list, list]) -> tuple[list, list]:
    """(polygon, baseline) of two lines joined: the hull of both regions; the baselines joined
    when the second continues the first to its right (a line cut in two), else none (two rows:
    an export then places the text on the merged box)."""
    (polygon_a, baseline_a), (polygon_b, baseline_b) = first, second
    polygon = hull([*polygon_a, *polygon_b])
    baseline: list = []
    if baseline_a and baseline_b and min(p[0] for p in baseline_b) >= max(
            p[0] for p in baseline_a):
        baseline = [list(p) for p in [*baseline_a, *baseline_b]]
    elif not polygon_b:
        baseline = [list(p) for p in baseline_a]
    elif not polygon_a:
        baseline = [list(p) for p in baseline_b]
    return polygon, baseline
