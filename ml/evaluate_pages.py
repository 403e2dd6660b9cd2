"""Measure the whole page pipeline on pages with ground truth (ALTO, PAGE XML, pages-fr JSON).

    python -m ml.evaluate_pages DIR_OR_MANIFEST [--model PATH] [--no-lm] [--limit N]
                                [--budget-seconds S] [--segmenter PATH]

DIR: every *.xml under it, and every *.json beside an image of the same name (pages-fr);
MANIFEST: a text file with one such path per line (relative to the manifest). For each page:
- line detection P/R/F1: a detected line matches a true one when the *ink* they cover has an IoU
  >= 0.5 (one-to-one, best first): the page is binarized once and IoU = |ink∩P∩T| / |ink∩(P∪T)|,
  so polygon conventions (eScriptorium's reach well above and below the ink, ours hug it) do
  not matter. The IoU of the polygons themselves is kept as a secondary figure;
- baseline P/R/F1 (a simplified ICDAR cBAD, `ml.metrics.baseline_detection`) on pages where
  every true and every detected line has a baseline;
- page CER and WER of the whole page text (lines joined, whitespace collapsed, so reading-order
  mistakes count), on pages that have text; and the CER of the matched lines alone, line by
  line (recognition without order, missed or invented lines);
- hallucination: on pages whose ground truth has no text line (blank paper), the characters read;
- the same recognizer's line-level CER on the true line polygons of the same pages (each cut
  as its box with white paper outside the polygon, from the lighting-flattened page): what
  segmentation costs is the difference;
- seconds per page (median, mean, worst) and how many pages came out partial (time budget).
Regions that hold text nobody transcribed (`GroundTruthPage.unannotated`, true lines without
text and, on pages-fr pages, whatever no true line covers: see `partly_annotated`) are neither
lines nor background: detected lines mostly inside them are dropped before scoring, their text
too. Progress to stderr; the last stdout line is one JSON object.
Transcription marks of the CATMuS conventions (^ ⟦ ⟧) are removed from references.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from ml.errors import DataError
from ml.groundtruth import GroundTruthPage, read_ground_truth
from ml.images import ImageInput, to_grayscale
from ml.metrics import (
    BASELINE_TOLERANCE,
    DetectionCounter,
    ErrorCounter,
    baseline_detection,
    ink_iou_matrix,
    line_spacing,
    match_one_to_one,
    polygon_ink,
    polygon_iou,
)
from ml.page.budget import PageBudget
from ml.page.crops import flat_page, polygon_crop
from ml.page.pipeline import PageLine, read_page
from ml.page.preprocess import binarize, flatten_lighting, remove_ruling
from ml.recognizer import DEFAULT_MODEL, Recognizer

IOU_MATCH = 0.5
CONVENTION_MARKS = str.maketrans("", "", "^⟦⟧")
# Ink is found at this size: strokes of a 4000 px photo stay 2-3 px wide, and rasterizing
# polygons stays cheap.
INK_LONG_SIDE = 1600
UNANNOTATED_SHARE = 0.5  # a detected line with this share of its ink in unannotated regions
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class EvaluatePagesConfig:
    source: Path
    model: Path = DEFAULT_MODEL
    lm: bool = True
    limit: int = 0
    threads: int = 2
    progress: bool = True
    budget_seconds: float | None = None  # PageBudget(seconds=...); None: the default budget
    segmenter: Path | None = None  # a line segmenter checkpoint; None: the committed one


def match_lines(predicted, truth) -> int:
    """How many predicted polygons match a true one one-to-one with polygon IoU >= 0.5."""
    scores = np.array([[polygon_iou(p, t) for t in truth] for p in predicted]).reshape(
        len(predicted), len(truth)
    )
    return len(match_one_to_one(scores, IOU_MATCH))


def find_pages(source: Path) -> list[Path]:
    """Ground-truth files of a folder (XML, and JSON beside its image) or listed in a manifest."""
    if source.is_dir():
        return sorted(p for p in source.rglob("*") if p.suffix == ".xml" or _is_json_page(p))
    if not source.is_file():
        raise DataError(f"{source} is neither a folder nor a manifest")
    base = source.resolve().parent
    rows = source.read_text(encoding="utf-8").splitlines()
    return [base / row.strip() for row in rows if row.strip() and not row.startswith("#")]


def _is_json_page(path: Path) -> bool:
    # pages-fr keeps each page's JSON beside its image; other JSON files are not pages.
    return path.suffix == ".json" and any(
        path.with_suffix(suffix).exists() for suffix in IMAGE_SUFFIXES
    )


def _truth_polygon(line):
    if line.polygon:
        return line.polygon
    x0, y0, x1, y1 = line.bbox
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def reference_text(line) -> str:
    return line.text.translate(CONVENTION_MARKS)


@dataclass(frozen=True)
class PageInk:
    """A page's ink pixels at a reduced size, and how page pixels map onto them."""

    ink: np.ndarray  # (H, W) bool
    scale: float  # ink pixels per page pixel

    def scaled(self, points) -> np.ndarray:
        return np.asarray(points, np.float64).reshape(-1, 2) * self.scale


def page_ink(image: ImageInput) -> PageInk:
    """Binarize a page once: lighting flattened, local threshold, ruled lines removed.

    The ruling goes because a tall polygon covers the ruled line under the writing and a tight
    one may not: it is paper, not ink, and must not decide a match.
    """
    gray = to_grayscale(image)
    scale = min(1.0, INK_LONG_SIDE / max(gray.shape))
    if scale < 1.0:
        size = (round(gray.shape[1] * scale), round(gray.shape[0] * scale))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return PageInk(remove_ruling(binarize(flatten_lighting(gray))), scale)


@dataclass
class PageScore:
    """One system's reading of one page, scored."""

    page: str
    seconds: float
    partial: bool
    lines: DetectionCounter  # ink IoU >= 0.5, one-to-one
    polygon_lines: DetectionCounter  # polygon IoU >= 0.5, one-to-one
    baselines: DetectionCounter | None  # None: one side has no baselines
    page_errors: ErrorCounter  # empty on blank pages
    matched_errors: ErrorCounter  # line by line, over the matched pairs only
    hallucinated: int | None  # characters read on a blank page; None when the page has text
    dropped: int = 0  # detected lines inside unannotated regions
    extra: dict = field(default_factory=dict)


def partly_annotated(page: GroundTruthPage) -> bool:
    """Whether text off the true lines may be real text nobody transcribed (pages-fr pages).

    pages-fr's README: printed headers, marginal notes, stamps and signatures carry no lines;
    the Copiste d'un jour consent header lies outside any region on some pages and inside an
    annotated region on others. Whatever ink no true line covers is unknown there.
    """
    return page.xml.suffix == ".json"


def _unannotated_mask(page: GroundTruthPage, ink: PageInk) -> np.ndarray:
    """Where text may be that nobody transcribed, at ink size: unannotated regions, true lines
    without text and, on partly annotated pages, everything off the true lines."""
    mask = np.full(ink.ink.shape, 1 if partly_annotated(page) else 0, np.uint8)
    lines = [_truth_polygon(line) for line in page.lines if reference_text(line).strip()]
    unknown = list(page.unannotated) + [
        _truth_polygon(line) for line in page.lines if not reference_text(line).strip()
    ]
    for polygons, value in ((unknown, 1), (lines, 0)):  # a true line's ink is never unknown
        for polygon in polygons:
            cv2.fillPoly(mask, [np.round(ink.scaled(polygon)).astype(np.int32)], value)
    return mask.astype(bool)


def drop_unannotated(
    page: GroundTruthPage, lines: Sequence[PageLine], ink: PageInk
) -> tuple[list[PageLine], int]:
    """The detected lines that are not mostly inside unannotated regions, and how many went."""
    regions = _unannotated_mask(page, ink)
    if not regions.any():
        return list(lines), 0
    kept = []
    for line in lines:
        polygon = ink.scaled(line.polygon)
        box, mask = polygon_ink(ink.ink, polygon)
        if not mask.any():  # no ink at all: judge by the polygon's area instead
            box, mask = polygon_ink(np.ones_like(ink.ink), polygon)
        x0, y0, x1, y1 = box
        inside = (mask & regions[y0:y1, x0:x1]).sum()
        if not mask.any() or inside < UNANNOTATED_SHARE * mask.sum():
            kept.append(line)
    return kept, len(lines) - len(kept)


def _baselines(page, truth, lines, ink: PageInk) -> DetectionCounter | None:
    """Baseline points scored at ink size; None unless both sides have every baseline."""
    if not all(line.baseline for line in truth) or not all(len(line.baseline) for line in lines):
        return None
    true = [ink.scaled(line.baseline) for line in truth]
    spacing = line_spacing(true)
    if spacing is None:  # fewer than two lines: their height stands in for the spacing
        heights = [line.bbox[3] - line.bbox[1] for line in truth] or [1]
        spacing = float(np.median(heights)) * ink.scale
    predicted = [ink.scaled(line.baseline) for line in lines]
    return baseline_detection(predicted, true, ink.ink.shape, BASELINE_TOLERANCE * spacing)


def score_page(
    page: GroundTruthPage,
    lines: Sequence[PageLine],
    *,
    seconds: float,
    partial: bool = False,
    ink: PageInk | None = None,
) -> PageScore:
    """Score one system's lines (polygon, baseline, text; reading order) against the truth."""
    ink = ink or page_ink(page.image)
    lines, dropped = drop_unannotated(page, lines, ink)
    truth = [line for line in page.lines if reference_text(line).strip()]
    predicted_polygons = [ink.scaled(line.polygon) for line in lines]
    true_polygons = [ink.scaled(_truth_polygon(line)) for line in truth]
    pairs = match_one_to_one(ink_iou_matrix(ink.ink, predicted_polygons, true_polygons), IOU_MATCH)
    matched, matched_errors = len(pairs), ErrorCounter()
    for i, j in pairs:  # recognition alone: no order, no missed or invented lines
        matched_errors.add(lines[i].text, reference_text(truth[j]))
    polygon_matched = match_lines(
        [line.polygon for line in lines], [_truth_polygon(line) for line in truth]
    )
    hypothesis = " ".join(line.text for line in lines)
    page_errors, hallucinated = ErrorCounter(), None
    if truth:
        page_errors.add(hypothesis, " ".join(reference_text(line) for line in truth))
    else:  # blank paper: nothing to read, every character is invented
        hallucinated = len("".join(hypothesis.split()))
    return PageScore(
        page=str(page.xml),
        seconds=seconds,
        partial=partial,
        lines=DetectionCounter(len(lines), matched, len(truth), matched),
        polygon_lines=DetectionCounter(len(lines), polygon_matched, len(truth), polygon_matched),
        baselines=_baselines(page, truth, lines, ink),
        page_errors=page_errors,
        matched_errors=matched_errors,
        hallucinated=hallucinated,
        dropped=dropped,
    )


def recognize_polygons(recognizer: Recognizer, page: np.ndarray, polygons) -> list[str]:
    """The text of each polygon's line of a flattened page ("" for an empty polygon)."""
    crops = [polygon_crop(page, polygon) for polygon in polygons]
    readable = [i for i, crop in enumerate(crops) if crop is not None]
    texts = [""] * len(crops)
    for i, reading in zip(
        readable, recognizer.recognize([crops[i] for i in readable]), strict=True
    ):
        texts[i] = reading.text
    return texts


def gt_line_errors(recognizer: Recognizer, page: GroundTruthPage, gray: np.ndarray):
    """The recognizer's errors on the page's true line polygons (no segmentation errors)."""
    truth = [line for line in page.lines if reference_text(line).strip()]
    texts = recognize_polygons(recognizer, flat_page(gray), [_truth_polygon(t) for t in truth])
    errors = ErrorCounter()
    for text, line in zip(texts, truth, strict=True):
        errors.add(text, reference_text(line))
    return errors


def evaluate_page(
    recognizer: Recognizer,
    page: GroundTruthPage,
    budget: PageBudget | None = None,
    ink: PageInk | None = None,
    segmenter=None,
) -> PageScore:
    """Read one page with our pipeline and score it; GT-box errors and timings in `extra`."""
    # Only a given segmenter is passed on: without one, read_page uses the committed model.
    options = {"segmenter": segmenter} if segmenter is not None else {}
    start = time.perf_counter()
    result = read_page(recognizer, page.image, alternatives=0, budget=budget, **options)
    seconds = time.perf_counter() - start
    gray = to_grayscale(page.image)
    score = score_page(
        page, result.lines, seconds=seconds, partial=result.partial, ink=ink or page_ink(gray)
    )
    score.extra = {"line_errors": gt_line_errors(recognizer, page, gray), "timings": result.timings}
    return score


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _detection(prefix: str, counters: list[DetectionCounter]) -> dict:
    total = DetectionCounter()
    for counter in counters:
        total.merge(counter)
    return {
        f"{prefix}precision": _rounded(total.precision),
        f"{prefix}recall": _rounded(total.recall),
        f"{prefix}f1": _rounded(total.f1),
    }


def summarize(scores: list[PageScore]) -> dict:
    """Corpus-level figures of scored pages (any system): the JSON that `run` reports."""
    page_errors, matched_errors = ErrorCounter(), ErrorCounter()
    for score in scores:
        page_errors.merge(score.page_errors)
        matched_errors.merge(score.matched_errors)
    seconds = [s.seconds for s in scores]
    blank = [s.hallucinated for s in scores if s.hallucinated is not None]
    baselines = [s.baselines for s in scores if s.baselines is not None]
    return {
        "pages": len(scores),
        "true_lines": int(sum(s.lines.true for s in scores)),
        "predicted_lines": int(sum(s.lines.predicted for s in scores)),
        **_detection("", [s.lines for s in scores]),
        **_detection("polygon_", [s.polygon_lines for s in scores]),
        **_detection("baseline_", baselines),
        "baseline_pages": len(baselines),
        "page_cer": round(page_errors.cer, 4) if page_errors.chars else None,
        "page_wer": round(page_errors.wer, 4) if page_errors.words else None,
        "matched_lines_cer": round(matched_errors.cer, 4) if matched_errors.chars else None,
        "blank_pages": len(blank),
        "hallucinated_chars_mean": round(statistics.mean(blank), 1) if blank else None,
        "hallucinated_chars_max": max(blank) if blank else None,
        "dropped_unannotated_lines": sum(s.dropped for s in scores),
        "seconds_per_page_median": round(statistics.median(seconds), 3),
        "seconds_per_page_mean": round(statistics.mean(seconds), 3),
        "seconds_per_page_worst": round(max(seconds), 3),
        "partial_pages": sum(s.partial for s in scores),
    }


def run(config: EvaluatePagesConfig) -> dict:
    """Evaluate every page; returns the summary that `main` prints."""
    torch.set_num_threads(config.threads)
    recognizer = Recognizer.load(config.model, use_lm=config.lm)
    budget = None if config.budget_seconds is None else PageBudget(seconds=config.budget_seconds)
    segmenter = None
    if config.segmenter is not None:
        from ml.page.segmenter import LineSegmenter

        segmenter = LineSegmenter.load(config.segmenter)
    paths = find_pages(config.source)[: config.limit or None]
    if not paths:
        raise DataError(f"No ALTO, PAGE XML or page JSON files in {config.source}")
    scores = [
        evaluate_page(recognizer, read_ground_truth(path), budget, segmenter=segmenter)
        for path in tqdm(paths, disable=not config.progress, unit="page", file=sys.stderr)
    ]
    line_errors = ErrorCounter()
    for score in scores:
        line_errors.merge(score.extra["line_errors"])
    timings = [s.extra["timings"] for s in scores]
    return {
        "source": str(config.source),
        **summarize(scores),
        "gt_lines_cer": round(line_errors.cer, 4),
        "gt_lines_wer": round(line_errors.wer, 4),
        "stage_seconds_median": {
            stage: round(statistics.median(t[stage] for t in timings), 3) for stage in timings[0]
        },
        "decoding": "beam 8 + char LM" if recognizer.lm else "greedy",
        "budget_seconds": (budget or PageBudget()).seconds,
        "segmenter": str(config.segmenter) if config.segmenter else "committed",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.evaluate_pages", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("source", type=Path, help="folder of page XML/JSON files, or a manifest")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--no-lm", dest="lm", action="store_false")
    parser.add_argument("--limit", type=int, default=0, help="evaluate the first N pages only")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-progress", dest="progress", action="store_false")
    parser.add_argument(
        "--budget-seconds", type=float, default=None, help="time budget per page (PageBudget)"
    )
    parser.add_argument(
        "--segmenter", type=Path, default=None, help="line segmenter checkpoint to evaluate"
    )
    args = parser.parse_args(argv)
    print(json.dumps(run(EvaluatePagesConfig(**vars(args))), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
