"""Reading order of a page's lines: a recursive XY-cut of their boxes, with margins last.

Blocks are found by cutting the set of line boxes at the widest empty vertical strip (a column
gutter) or, failing that, at the widest empty horizontal one (paragraphs, a heading above
columns); blocks are read left to right and top to bottom, lines top to bottom within a block.
A narrow side block holding only a few lines beside the main text is a marginal note: it is
read after the text it stands beside, not before it. A gutter may be crossed by a few lines
(a line of each column read as one), so long as most lines keep to one side.
"""

from __future__ import annotations

import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1
# A side block is marginal when it is this much narrower than the text beside it and holds at
# most this share of its lines.
MARGIN_WIDTH_SHARE = 0.4
MARGIN_LINE_SHARE = 0.5
GUTTER_MIN_LINES = 10  # a gutter crossed by some lines is looked for among this many lines
GUTTER_CROSSING = 0.1  # share of the lines that may cross a gutter


def reading_order(
    boxes: list[Box], char_height: float, gutters: list[tuple[int, int]] = ()
) -> list[tuple[int, Box]]:
    """(block, box) pairs in reading order, by recursive XY-cut of the boxes.

    A vertical cut (a column gutter) is preferred; failing that, the widest horizontal gap
    splits the set (a heading above columns, paragraphs); a set with no gap at all is one
    block, read top to bottom.
    """
    blocks: list[list[Box]] = []
    _xy_cut(boxes, char_height, blocks, list(gutters))
    return [(index, box) for index, block in enumerate(blocks) for box in block]


def _xy_cut(
    boxes: list[Box], char_height: float, blocks: list[list[Box]], gutters: list[tuple[int, int]]
) -> None:
    if not boxes:
        return
    cut = _column_cut(boxes, char_height, gutters)
    if cut is not None:
        left = [b for b in boxes if (b[0] + b[2]) / 2 <= cut]
        right = [b for b in boxes if (b[0] + b[2]) / 2 > cut]
        first, second = (right, left) if _is_margin(left, right) else (left, right)
        _xy_cut(first, char_height, blocks, gutters)
        _xy_cut(second, char_height, blocks, gutters)
        return
    cut = _row_cut(boxes, char_height)
    if cut is not None:
        _xy_cut([b for b in boxes if b[3] <= cut], char_height, blocks, gutters)
        _xy_cut([b for b in boxes if b[1] >= cut], char_height, blocks, gutters)
        return
    blocks.append(_rows(boxes))


def _column_cut(
    boxes: list[Box], char_height: float, gutters: list[tuple[int, int]]
) -> float | None:
    """Where to cut a set vertically (a gutter between columns), or None.

    A gutter is an empty vertical strip at least 1.5 x-heights wide; among many lines, one
    strip that a few lines cross counts too (two lines of neighbouring columns read as one
    mustn't make a page read row by row across its columns). Lines crossing it go to the side
    holding their middle.
    """
    if len(boxes) < 2:
        return None
    gap = _widest_gap([(b[0], b[2]) for b in boxes])
    if gap and (
        gap[1] - gap[0] >= char_height * 1.5
        or any(gap[0] < g1 and gap[1] > g0 for g0, g1 in gutters)
    ):
        return (gap[0] + gap[1]) / 2
    if len(boxes) < GUTTER_MIN_LINES:
        return None
    left_edge = min(b[0] for b in boxes)
    coverage = np.zeros(max(b[2] for b in boxes) - left_edge + 1, np.int32)
    for b in boxes:
        coverage[b[0] - left_edge : b[2] - left_edge] += 1
    allowed = int(len(boxes) * GUTTER_CROSSING)
    best = None
    for start, end in _runs(coverage <= allowed):
        if end - start < char_height * 1.5:
            continue
        cut = left_edge + (start + end) / 2
        sides = (sum(b[2] <= cut for b in boxes), sum(b[0] >= cut for b in boxes))
        if min(sides) >= 3 and (best is None or end - start > best[0]):
            best = (end - start, cut)
    return best[1] if best else None


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True, strictly inside the array (not touching its ends)."""
    edges = np.flatnonzero(np.diff(np.r_[0, flags.astype(np.int8), 0]))
    return [
        (s, e) for s, e in zip(edges[::2], edges[1::2], strict=True) if s > 0 and e < len(flags)
    ]


def _row_cut(boxes: list[Box], char_height: float) -> float | None:
    """Where to cut a set horizontally, or None when it is one block of lines.

    Only a cut between parts of different layout matters (a heading above two columns): the
    widest gap where one side has columns and the other has not. Failing that, the widest gap
    if some side has columns. A cut between two rows of the same columns would read them
    alternately, row by row.
    """
    if len(boxes) < 2:
        return None
    candidates = []
    for gap in _gaps([(b[1], b[3]) for b in boxes]):
        if gap[1] - gap[0] < char_height * 1.2:
            continue
        cut = (gap[0] + gap[1]) / 2
        upper = _has_columns([b for b in boxes if b[3] <= cut], char_height)
        lower = _has_columns([b for b in boxes if b[1] >= cut], char_height)
        if upper or lower:
            candidates.append((upper != lower, gap[1] - gap[0], cut))
    return max(candidates)[2] if candidates else None


def _has_columns(boxes: list[Box], char_height: float) -> bool:
    gap = _widest_gap([(b[0], b[2]) for b in boxes])
    if gap is not None and gap[1] - gap[0] >= char_height * 1.5:
        return True
    row_gap = _widest_gap([(b[1], b[3]) for b in boxes])
    if row_gap is None or row_gap[1] - row_gap[0] < char_height * 1.2:
        return False
    cut = (row_gap[0] + row_gap[1]) / 2
    return _has_columns([b for b in boxes if b[3] <= cut], char_height) or _has_columns(
        [b for b in boxes if b[1] >= cut], char_height
    )


def _gaps(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Stretches covered by no interval, strictly between the first and the last."""
    ordered = sorted(intervals)
    gaps, reach = [], ordered[0][1]
    for start, end in ordered[1:]:
        if start > reach:
            gaps.append((reach, start))
        reach = max(reach, end)
    return gaps


def _widest_gap(intervals: list[tuple[int, int]]) -> tuple[int, int] | None:
    gaps = _gaps(intervals)
    return max(gaps, key=lambda g: g[1] - g[0]) if gaps else None


def _is_margin(side: list[Box], main: list[Box]) -> bool:
    """Whether `side` is a note in the margin of `main` rather than a column before it."""
    if not side or not main:
        return False
    width = max(b[2] for b in side) - min(b[0] for b in side)
    main_width = max(b[2] for b in main) - min(b[0] for b in main)
    return width <= MARGIN_WIDTH_SHARE * main_width and len(side) <= MARGIN_LINE_SHARE * len(main)


def _rows(boxes: list[Box]) -> list[Box]:
    """A block's lines top to bottom; lines side by side on one row (a date cut off at the
    margin, a closing beside its signature) left to right."""
    rows: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b[1] + b[3]) / 2):
        row = rows[-1] if rows else None
        if row and _same_row(row[-1], box):
            row.append(box)
        else:
            rows.append([box])
    return [box for row in rows for box in sorted(row, key=lambda b: b[0])]


def _same_row(a: Box, b: Box) -> bool:
    """Boxes overlapping vertically over more than half of the shorter one, side by side."""
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    side_by_side = a[2] <= b[0] or b[2] <= a[0]
    return side_by_side and overlap > 0.5 * min(a[3] - a[1], b[3] - b[1])
