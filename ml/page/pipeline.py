"""A whole page in, its lines out: located, ordered and read.

    result = read_page(recognizer, "photo.jpg")
    result.text                      # the page's text in reading order, one line per line
    result.lines[0].polygon          # where that line is on the original photo
    result.timings                   # seconds per stage

Stages: preprocessing (sheet, lighting: `preprocess`), line finding by the trained segmenter
(`segmenter`, `lines`), line regions and straightened line images (`crops`), reading order
(`order`), recognition of all lines as one batch, then the lines the recognizer could not read
are dropped as not text (`screening`). The page's budget (`budget`) bounds the number of lines
and the time: a page that runs out of time comes back partly read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ml.ctc import Word
from ml.images import ImageInput
from ml.page.budget import Deadline, PageBudget
from ml.page.crops import LineRegion, cut_line, line_regions
from ml.page.order import reading_order
from ml.page.preprocess import PreparedPage, prepare_page
from ml.page.screening import is_text
from ml.page.segmenter import LineSegmenter, default_segmenter
from ml.recognizer import Recognizer

Point = tuple[float, float]
ORDER_ABOVE, ORDER_BELOW = 1.8, 0.7  # x-heights: a line's extent when ordering lines


@dataclass(frozen=True)
class PageLine:
    polygon: tuple[Point, ...]  # the line's region on the original image, clockwise
    baseline: tuple[Point, ...]  # left to right along the writing, original image
    block: int  # index of the block (column, paragraph group) in reading order
    text: str = ""
    confidence: float = 0.0
    words: tuple[Word, ...] = ()
    read: bool = True  # False: located, but the page's time budget ran out before reading it

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        xs, ys = [p[0] for p in self.polygon], [p[1] for p in self.polygon]
        return int(min(xs)), int(min(ys)), int(np.ceil(max(xs))), int(np.ceil(max(ys)))


@dataclass(frozen=True)
class PageResult:
    width: int  # original image, after EXIF orientation
    height: int
    lines: tuple[PageLine, ...]  # reading order
    skew: float  # degrees: the median slope of the lines' baselines
    timings: dict[str, float]  # seconds per stage
    partial: bool = False  # the time budget ran out: some lines are located but not read

    @property
    def unread(self) -> int:
        return sum(1 for line in self.lines if not line.read)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines if line.text)


@dataclass(frozen=True)
class SegmentedPage:
    prepared: PreparedPage
    lines: tuple[PageLine, ...]  # located, not yet read
    crops: tuple[np.ndarray, ...]  # uint8 straightened line images, one per line
    scores: tuple[float, ...]  # the segmenter's confidence in each line
    skew: float
    timings: dict[str, float]


def segment_page(
    image: ImageInput,
    *,
    segmenter: LineSegmenter | None = None,
    budget: PageBudget | None = None,
) -> SegmentedPage:
    """Preprocess and find the lines of a page, without reading them."""
    budget = budget or PageBudget()
    timings = {}
    start = time.perf_counter()
    prepared = prepare_page(image)
    timings["preprocess"] = time.perf_counter() - start
    start = time.perf_counter()
    found = (segmenter or default_segmenter()).find_lines(prepared.flat)
    # Over budget: keep the most confident candidates (a textured page yields hundreds).
    found = sorted(found, key=lambda line: -line.score)[: budget.max_lines]
    regions = line_regions(found)
    x_height = float(np.median([line.x_height for line in found])) if found else 1.0
    # Each box carries its line's index as a fifth element, which the XY-cut ignores.
    boxes = [(*_order_box(line), i) for i, line in enumerate(found)]
    ordered = [(block, box[4]) for block, box in reading_order(boxes, x_height)]
    regions = tuple(regions[i] for _, i in ordered)
    lines = tuple(
        _locate(region, block, prepared.to_original)
        for (block, _), region in zip(ordered, regions, strict=True)
    )
    crops = tuple(cut_line(prepared.flat, region) for region in regions)
    scores = tuple(found[i].score for _, i in ordered)
    timings["segment"] = time.perf_counter() - start
    skew = _skew([line.baseline for line in found])
    return SegmentedPage(prepared, lines, crops, scores, skew, timings)


def read_page(
    recognizer: Recognizer,
    image: ImageInput,
    *,
    beam_width: int | None = None,
    alternatives: int = 3,
    budget: PageBudget | None = None,
    segmenter: LineSegmenter | None = None,
) -> PageResult:
    """Segment a page and recognize every line, within the page's budget of time and lines."""
    budget = budget or PageBudget()
    deadline = Deadline(budget)
    segmented = segment_page(image, segmenter=segmenter, budget=budget)
    start = time.perf_counter()
    results = (
        recognizer.recognize(
            list(segmented.crops),
            beam_width=beam_width,
            alternatives=alternatives,
            deadline=deadline,
        )
        if segmented.crops
        else []
    )
    timings = dict(segmented.timings, recognize=time.perf_counter() - start)
    lines = []
    for line, crop, score, result in zip(
        segmented.lines, segmented.crops, segmented.scores, results, strict=True
    ):
        if result is None:
            lines.append(replace(line, read=False))
        elif is_text(result, crop, score):
            lines.append(
                replace(line, text=result.text, confidence=result.confidence, words=result.words)
            )
    width, height = segmented.prepared.original_size
    partial = any(not line.read for line in lines)
    return PageResult(width, height, tuple(lines), segmented.skew, timings, partial)


def _order_box(line) -> tuple[int, int, int, int]:
    """The box of a line from the top of its capitals to its descenders: lines of one paragraph
    touch or nearly, so the gaps left are those between paragraphs, blocks and columns."""
    ys = line.baseline[:, 1]
    return (
        int(line.x0),
        int(ys.min() - ORDER_ABOVE * line.x_height),
        int(np.ceil(line.x1)),
        int(np.ceil(ys.max() + ORDER_BELOW * line.x_height)),
    )


def _locate(region: LineRegion, block: int, to_original: np.ndarray) -> PageLine:
    """The line's region and baseline, mapped onto the original image."""
    polygon = _map(region.polygon(), to_original)
    baseline = _map(region.baseline_points(), to_original)
    return PageLine(
        polygon=_simplify(polygon, closed=True), baseline=_simplify(baseline), block=block
    )


def _map(points: np.ndarray, homography: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(np.float32(points)[None], homography)[0]


def _simplify(points: np.ndarray, closed: bool = False) -> tuple[Point, ...]:
    """Fewer points along straight stretches (within a pixel), rounded to 0.1 px."""
    simplified = cv2.approxPolyDP(np.float32(points)[:, None], 1.0, closed)[:, 0]
    if len(simplified) < (3 if closed else 2):
        simplified = points
    return tuple((round(float(x), 1), round(float(y), 1)) for x, y in simplified)


def _skew(baselines) -> float:
    """Median slope of the baselines, in degrees (positive: rising to the right)."""
    angles = [
        float(np.degrees(np.arctan2(b[0, 1] - b[-1, 1], b[-1, 0] - b[0, 0])))
        for b in baselines
        if b[-1, 0] - b[0, 0] > 0
    ]
    return round(float(np.median(angles)), 2) if angles else 0.0
