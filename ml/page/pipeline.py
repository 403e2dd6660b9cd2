"""A whole page in, its lines out: located, ordered and read.

    result = read_page(recognizer, "photo.jpg")
    result.text                      # the page's text in reading order, one line per line
    result.lines[0].polygon          # where that line is on the original photo
    result.timings                   # seconds per stage

Lines are cut from the flattened, rectified working image (uniform paper, upright text) and
recognized as one batch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ml.ctc import Word
from ml.images import ImageInput
from ml.page.budget import Deadline, PageBudget
from ml.page.preprocess import PreparedPage, prepare_page
from ml.page.segment import Box, LineRegion, segment_lines
from ml.recognizer import Recognizer

Point = tuple[float, float]
# A line's crop is its ink box padded by these shares of its height: room for the faint
# strokes binarization missed, not so much that the neighbours come in.
CROP_PAD_Y = 0.2
CROP_PAD_X = 0.1


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
    skew: float  # degrees corrected
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
    regions: tuple[LineRegion, ...]
    lines: tuple[PageLine, ...]  # located, not yet read
    crops: tuple[np.ndarray, ...]  # uint8 line images, one per line
    timings: dict[str, float]


def segment_page(image: ImageInput) -> SegmentedPage:
    """Preprocess and find the lines of a page, without reading them."""
    timings = {}
    start = time.perf_counter()
    prepared = prepare_page(image)
    timings["preprocess"] = time.perf_counter() - start
    start = time.perf_counter()
    regions = tuple(segment_lines(prepared.ink))
    page = (prepared.flat * 255).astype(np.uint8)
    lines = tuple(_locate(region, prepared.to_original) for region in regions)
    crops = tuple(_crop(page, region.box) for region in regions)
    timings["segment"] = time.perf_counter() - start
    return SegmentedPage(prepared, regions, lines, crops, timings)


def read_page(
    recognizer: Recognizer,
    image: ImageInput,
    *,
    beam_width: int | None = None,
    alternatives: int = 3,
    budget: PageBudget | None = None,
) -> PageResult:
    """Segment a page and recognize every line, within the page's budget of time and lines."""
    deadline = Deadline(budget or PageBudget())
    segmented = segment_page(image)
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
    lines = tuple(
        replace(line, text=result.text, confidence=result.confidence, words=result.words)
        if result is not None
        else replace(line, read=False)
        for line, result in zip(segmented.lines, results, strict=True)
    )
    width, height = segmented.prepared.original_size
    partial = any(not line.read for line in lines)
    return PageResult(width, height, lines, segmented.prepared.skew, timings, partial)


def _locate(region: LineRegion, to_original: np.ndarray) -> PageLine:
    """The line's ink box and baseline, mapped onto the original image."""
    x0, y0, x1, y1 = region.box
    corners = np.float32(
        [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, region.baseline_y], [x1, region.baseline_y]]
    )
    mapped = cv2.perspectiveTransform(corners[None], to_original)[0]
    points = [(round(float(x), 1), round(float(y), 1)) for x, y in mapped]
    return PageLine(polygon=tuple(points[:4]), baseline=(points[4], points[5]), block=region.block)


def _crop(page: np.ndarray, box: Box) -> np.ndarray:
    """The line's ink box with room for the faint strokes binarization missed."""
    x0, y0, x1, y1 = box
    height = y1 - y0
    pad_y, pad_x = int(height * CROP_PAD_Y) + 1, int(height * CROP_PAD_X) + 1
    h, w = page.shape
    return page[max(0, y0 - pad_y) : min(h, y1 + pad_y), max(0, x0 - pad_x) : min(w, x1 + pad_x)]
