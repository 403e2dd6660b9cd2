"""Text line segmentation of a binarized, deskewed page, and reading order.

Method: connected components of the ink, specks and stray strokes dropped; a short horizontal
smear (1.6 character heights) joins letters into words; blobs taller than the line pitch (the
row profile's autocorrelation peak) are cut at profile valleys, since touching ascenders and
descenders merge lines; column gutters are found as vertical strips almost no word crosses;
words of a row are joined unless a gutter lies between them; a recursive XY-cut over the line
boxes then gives blocks and the reading order: blocks left to right and top to bottom, lines
top to bottom within a block.

How it got here, on 30 synthetic test pages (detection F1 at IoU 0.5): smearing alone 0.89;
joining words by gap and pitch-based splitting 0.92; extending found rulings along their rows
(the pieces between words went with them) 0.96; gutters, which stopped lines of two columns
from being joined, cut the page CER from 20% to 14% (line CER on true boxes: 12%).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)


@dataclass(frozen=True)
class LineRegion:
    box: Box  # working-image pixels
    baseline_y: int  # bottom of the main body of the letters
    block: int


def segment_lines(ink: np.ndarray) -> list[LineRegion]:
    """Line regions of a page, in reading order."""
    labels, stats, char_height = _components(ink)
    if char_height is None:
        return []
    text = labels > 0
    smear_width = max(3, int(char_height * 1.6))
    smeared = cv2.morphologyEx(
        text.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((1, smear_width), np.uint8)
    )
    count, blob_labels, blob_stats, _ = cv2.connectedComponentsWithStats(smeared, connectivity=8)
    blobs = [
        (i, (x, y, x + w, y + h))
        for i, (x, y, w, h, _) in enumerate(blob_stats[1:], start=1)
        if w >= char_height * 0.6 or h >= char_height * 0.6  # a lone dot is not a line
    ]
    line_height = _typical_line_height([box for _, box in blobs], char_height)
    pitch = line_pitch(text, char_height) or line_height
    boxes = []
    for i, box in blobs:
        boxes += _split_tall(text & (blob_labels == i), box, pitch)
    gutters = _gutters(sorted(boxes), line_height)
    boxes = [piece for box in boxes for piece in _split_at_gutters(text, box, gutters)]
    boxes = _join_words(boxes, line_height, pitch, gutters)
    boxes = [b for b in boxes if _looks_like_text(b, char_height)]
    return [
        LineRegion(box=box, baseline_y=_baseline(text, box), block=block)
        for block, box in reading_order(boxes, char_height, gutters)
    ]


def line_pitch(text: np.ndarray, char_height: float) -> float | None:
    """Distance between successive lines: the first peak of the row profile's autocorrelation.

    Unlike line heights, the pitch does not grow with tall loops and long descenders, which in
    cursive overlap the neighbouring lines.
    """
    profile = text.sum(axis=1).astype(np.float64)
    profile -= profile.mean()
    if not profile.any():
        return None
    spectrum = np.fft.rfft(profile, n=2 * len(profile))
    autocorrelation = np.fft.irfft(spectrum * np.conj(spectrum))[: len(profile)]
    lo, hi = int(char_height * 1.2), min(len(profile) - 1, int(char_height * 8))
    if hi <= lo + 2:
        return None
    window = autocorrelation[lo:hi]
    peaks = [
        i
        for i in range(1, len(window) - 1)
        if window[i] >= window[i - 1] and window[i] >= window[i + 1] and window[i] > 0
    ]
    if not peaks:
        return None
    best = max(peaks, key=lambda i: window[i])
    # The first peak at least half as strong as the best is the pitch (the best may be 2x).
    first = next(i for i in peaks if window[i] >= 0.5 * window[best])
    return float(lo + first)


def _looks_like_text(box: Box, char_height: float) -> bool:
    """Lines of text are wider than they are tall and at least a character high; flat bits are
    what is left of a rule, narrow tall ones are folds, stains, punch holes and margin marks."""
    width, height = box[2] - box[0], box[3] - box[1]
    return width >= char_height * 0.5 and height >= char_height * 0.4 and width >= height * 0.9


def _typical_line_height(boxes: list[Box], char_height: float) -> float:
    """Median height of the blobs that look like lines (several characters wide)."""
    heights = [b[3] - b[1] for b in boxes if b[2] - b[0] >= char_height * 4]
    return float(np.median(heights)) if heights else char_height * 2


def _components(ink: np.ndarray):
    """Labels of the kept components and the typical character height (None if no text)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    if count <= 1:
        return labels, stats, None
    heights, widths, areas = stats[1:, 3], stats[1:, 2], stats[1:, 4]
    candidates = heights[(areas >= 12) & (heights >= 4)]
    if candidates.size < 3:
        return labels, stats, None
    char_height = float(np.median(candidates))
    page_h, page_w = ink.shape
    keep = np.zeros(count, bool)
    keep[1:] = (
        (areas >= max(6, char_height * char_height * 0.02))  # specks of noise
        & (heights <= char_height * 6)  # page edges, drawings, long vertical strokes
        & (widths <= page_w * 0.9)
        & ~((heights > char_height * 3) & (widths < char_height * 0.4))  # margin rules
    )
    labels = np.where(keep[labels], labels, 0)
    return labels, stats, char_height


def _split_tall(ink: np.ndarray, box: Box, pitch: float) -> list[Box]:
    """Cut a blob holding k lines (touching loops, ascenders and descenders) at the k-1
    valleys of its row profile nearest to where the line boundaries should be.

    A line of ink is about one pitch high (up to ~1.4 pitches with tall loops), so a blob
    of height h holds round(h / pitch - 0.4) lines.
    """
    x0, y0, x1, y1 = box
    height = y1 - y0
    pieces = round(height / pitch - 0.4)
    if pieces < 2:
        return [_tight(ink, box)]
    profile = ink[y0:y1, x0:x1].sum(axis=1).astype(np.float32)
    profile = np.convolve(profile, np.ones(3) / 3, mode="same")
    step, search = height / pieces, int(pitch * 0.35)
    cuts = [0]
    for k in range(1, pieces):
        expected = int(k * step)
        lo, hi = max(cuts[-1] + 1, expected - search), min(height - 1, expected + search)
        if lo >= hi:
            continue
        cuts.append(lo + int(profile[lo:hi].argmin()))
    cuts.append(height)
    out = []
    for top, bottom in zip(cuts, cuts[1:], strict=False):
        piece = _tight(ink, (x0, y0 + top, x1, y0 + bottom))
        if piece[3] > piece[1]:
            out.append(piece)
    return out


def _join_words(
    boxes: list[Box], line_height: float, pitch: float, gutters: list[tuple[int, int]]
) -> list[Box]:
    """Join the fragments (words) of each line, never across a column gutter.

    Two fragments side by side on the same row join when their gap is small, or when it is
    wider but other fragments nearby cross the same vertical strip: then the gap is a space
    inside a column of text. A gutter is a strip that (almost) no fragment crosses.
    """
    fragments = sorted(boxes)
    lines = list(fragments)
    merged = True
    while merged:
        merged = False
        for i, a in enumerate(lines):
            for j in range(i + 1, len(lines)):
                b = lines[j]
                if _same_line(a, b, line_height, pitch, fragments, gutters):
                    lines[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del lines[j]
                    merged = True
                    break
            if merged:
                break
    return sorted(lines)


def _split_at_gutters(ink: np.ndarray, box: Box, gutters: list[tuple[int, int]]) -> list[Box]:
    """Cut a box that the smear carried across a gutter, where its ink has a blank column."""
    x0, y0, x1, y1 = box
    for g0, g1 in gutters:
        lo, hi = max(x0, g0), min(x1, g1)
        if x0 < (g0 + g1) / 2 < x1 and hi > lo:
            blank = np.flatnonzero(ink[y0:y1, lo:hi].sum(axis=0) == 0)
            if blank.size:
                middle = (g0 + g1) / 2 - lo
                cut = lo + int(blank[np.abs(blank - middle).argmin()])
                return [
                    b
                    for b in (_tight(ink, (x0, y0, cut, y1)), _tight(ink, (cut, y0, x1, y1)))
                    if b[2] > b[0]
                ]
    return [box]


def _gutters(fragments: list[Box], line_height: float) -> list[tuple[int, int]]:
    """Vertical strips between columns: crossed by at most 10% of the rows beside them."""
    if len(fragments) < 6:
        return []
    right = max(b[2] for b in fragments)
    coverage = np.zeros(right + 1, np.int32)
    for x0, _, x1, _ in fragments:
        coverage[x0:x1] += 1
    # A gutter separates two columns, each of several rows of text: it is a run of low
    # coverage at least half a line high wide, with text filling both sides.
    low = coverage <= max(1, 0.1 * np.percentile(coverage[coverage > 0], 75))
    gutters, start = [], None
    for x, is_low in enumerate(low):
        if is_low and start is None:
            start = x
        elif not is_low and start is not None:
            if x - start >= line_height * 0.5:
                gutters.append((start, x))
            start = None

    def rows(side):
        return sum(1 for b in fragments if side(b))

    return [
        (g0, g1)
        for g0, g1 in gutters
        if rows(lambda b, g0=g0: b[2] <= g0) >= 3 and rows(lambda b, g1=g1: b[0] >= g1) >= 3
    ]


def _same_line(
    a: Box,
    b: Box,
    line_height: float,
    pitch: float,
    fragments: list[Box],
    gutters: list[tuple[int, int]],
) -> bool:
    heights = (a[3] - a[1], b[3] - b[1])
    if min(a[3], b[3]) - max(a[1], b[1]) < 0.5 * min(heights):
        return False  # not on the same row
    if max(a[3], b[3]) - min(a[1], b[1]) > max(1.6 * pitch, *heights):
        return False  # the union would span two lines (one fragment reaches into the next)
    gap_start, gap_end = min(a[2], b[2]), max(a[0], b[0])
    if any(gap_start < g1 and gap_end > g0 for g0, g1 in gutters):
        return False  # the gap opens onto a gutter
    gap = gap_end - gap_start
    if gap <= line_height * 0.8:
        return True
    if gap > line_height * 3:
        return False
    top, bottom = min(a[1], b[1]) - 4 * line_height, max(a[3], b[3]) + 4 * line_height
    return any(
        c[0] < gap_start and c[2] > gap_end and c[3] > top and c[1] < bottom
        for c in fragments
        if c is not a and c is not b
    )


def _tight(ink: np.ndarray, box: Box) -> Box:
    x0, y0, x1, y1 = box
    region = ink[y0:y1, x0:x1]
    rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
    if rows.size == 0:
        return (x0, y0, x0, y0)
    return (x0 + int(cols[0]), y0 + int(rows[0]), x0 + int(cols[-1]) + 1, y0 + int(rows[-1]) + 1)


def _baseline(ink: np.ndarray, box: Box) -> int:
    """The lowest row that still has at least half the ink of the densest rows."""
    x0, y0, x1, y1 = box
    profile = ink[y0:y1, x0:x1].sum(axis=1)
    if profile.size == 0 or profile.max() == 0:
        return y1
    dense = np.flatnonzero(profile >= 0.5 * np.percentile(profile[profile > 0], 90))
    return y0 + int(dense[-1]) + 1


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
    column_gap = _widest_gap([(b[0], b[2]) for b in boxes])
    if column_gap and (
        column_gap[1] - column_gap[0] >= char_height * 1.5
        or any(column_gap[0] < g1 and column_gap[1] > g0 for g0, g1 in gutters)
    ):
        cut = (column_gap[0] + column_gap[1]) / 2
        _xy_cut([b for b in boxes if b[2] <= cut], char_height, blocks, gutters)
        _xy_cut([b for b in boxes if b[0] >= cut], char_height, blocks, gutters)
        return
    row_gap = _widest_gap([(b[1], b[3]) for b in boxes])
    if row_gap and row_gap[1] - row_gap[0] >= char_height * 1.2 and len(boxes) > 1:
        cut = (row_gap[0] + row_gap[1]) / 2
        upper = [b for b in boxes if b[3] <= cut]
        lower = [b for b in boxes if b[1] >= cut]
        # Recurse only if the halves differ in layout; otherwise it is one block of lines.
        if _has_columns(upper, char_height) or _has_columns(lower, char_height):
            _xy_cut(upper, char_height, blocks, gutters)
            _xy_cut(lower, char_height, blocks, gutters)
            return
    blocks.append(sorted(boxes, key=lambda b: ((b[1] + b[3]) / 2, b[0])))


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


def _widest_gap(intervals: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The widest stretch covered by no interval, strictly between the first and the last."""
    ordered = sorted(intervals)
    best, reach = None, ordered[0][1]
    for start, end in ordered[1:]:
        if start > reach and (best is None or start - reach > best[1] - best[0]):
            best = (reach, start)
        reach = max(reach, end)
    return best
