"""Where each line of a page goes in the formats that place text on the image (PDF, ALTO, PAGE).

Recognized lines keep their region, clamped to the page (PAGE XML allows no negative
coordinates). A line a person typed in has no region: it is given a box below the page's last
line, so it is still selectable in the PDF and still a valid TextLine in the XML, while its
place in the reading order stays where the person typed it.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from recognition.exports.document import DocumentLine, DocumentPage

IntPoint = tuple[int, int]
Box = tuple[int, int, int, int]  # x0, y0, x1, y1; x1 and y1 exclusive

# Characters XML 1.0 cannot carry at all (and python-docx refuses): C0 controls but tab and
# newline, and the two non-characters.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text)


@dataclass(frozen=True)
class PlacedLine:
    line: DocumentLine
    polygon: tuple[IntPoint, ...]  # at least 3 points, inside the page
    baseline: tuple[IntPoint, ...]  # () or at least 2 points
    box: Box
    typed: bool  # the geometry is made up: the line has no region on the image
    run: int  # consecutive lines of one block: a TextBlock / TextRegion each, in reading order

    @property
    def thickness(self) -> float:
        """The line's height across its direction: polygon area over its width (a tilted
        line's box is much taller than the line itself)."""
        width = max(1, self.box[2] - self.box[0])
        return max(1.0, min(_area(self.polygon) / width, self.box[3] - self.box[1]))


def placed_lines(page: DocumentPage) -> list[PlacedLine]:
    """Every line of the page, in reading order, with a region on it."""
    regions = {line.id: _region(page, line) for line in page.lines}
    boxes = [_bbox(polygon) for polygon in regions.values() if polygon]
    typed = iter(_typed_boxes(page, boxes, sum(1 for p in regions.values() if not p)))
    placed, run, block = [], -1, None
    for line in page.lines:
        polygon = regions[line.id]
        if polygon:
            box = _bbox(polygon)
            baseline = _clamp(page, line.baseline) if len(line.baseline) >= 2 else ()
        else:
            box = next(typed)
            polygon = _box_polygon(box)
            y = box[1] + round(0.8 * (box[3] - box[1]))
            baseline = ((box[0], y), (box[2] - 1, y))
        # A typed line continues the block it was typed into (the previous line's).
        line_block = block if not regions[line.id] and block is not None else line.block
        if line_block != block:
            run, block = run + 1, line_block
        placed.append(PlacedLine(line, polygon, baseline, box, not regions[line.id], run))
    return placed


def _region(page: DocumentPage, line: DocumentLine) -> tuple[IntPoint, ...]:
    """The line's polygon inside the page, or () when it has none worth the name."""
    points = _clamp(page, line.polygon)
    if len(points) < 2:
        return ()
    x0, y0, x1, y1 = _bbox(points)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return ()
    return points if len(points) >= 3 else _box_polygon((x0, y0, x1, y1))


def _clamp(page: DocumentPage, points) -> tuple[IntPoint, ...]:
    right, bottom = max(0, page.width - 1), max(0, page.height - 1)
    return tuple((min(max(round(x), 0), right), min(max(round(y), 0), bottom))
                 for x, y in points)


def _bbox(points) -> Box:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs) + 1, max(ys) + 1


def _box_polygon(box: Box) -> tuple[IntPoint, ...]:
    x0, y0, x1, y1 = box
    return ((x0, y0), (x1 - 1, y0), (x1 - 1, y1 - 1), (x0, y1 - 1))


def _area(points) -> float:
    """Shoelace formula."""
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1)
                   in zip(points, points[1:] + points[:1], strict=True))) / 2


def _typed_boxes(page: DocumentPage, boxes: list[Box], count: int) -> list[Box]:
    """`count` boxes stacked below the lowest line, as wide and tall as the lines are."""
    if not count:
        return []
    width, height = max(page.width, 2), max(page.height, 2)
    if boxes:
        size = round(statistics.median(b[3] - b[1] for b in boxes))
        x0, x1 = round(statistics.median(b[0] for b in boxes)), max(b[2] for b in boxes)
        top = max(b[3] for b in boxes) + size // 2
    else:
        size = max(8, round(height * 0.03))
        x0, x1, top = round(width * 0.05), round(width * 0.95), round(height * 0.05)
    pitch = max(1, round(size * 1.5))
    if top + pitch * count > height:  # no room below the last line: use the page's foot
        pitch = max(1, min(pitch, height // count))
        top = max(0, height - pitch * count)
    size = max(1, min(size, pitch))
    if x1 - x0 < 2:
        x0, x1 = 0, width
    return [(x0, top + i * pitch, x1, min(height, top + i * pitch + size)) for i in range(count)]
