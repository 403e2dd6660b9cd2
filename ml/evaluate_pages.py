"""Measure the whole page pipeline on pages with ALTO or PAGE XML ground truth.

    python -m ml.evaluate_pages DIR_OR_MANIFEST [--model PATH] [--no-lm] [--limit N]

DIR: every *.xml under it; MANIFEST: a text file with one XML path per line (relative to the
manifest). For each page: line detection precision and recall (a detected line matches a true
one when their polygons' IoU >= 0.5, one-to-one, best IoU first); page CER and WER of the whole
page text (lines joined, whitespace collapsed, so reading-order mistakes count); the same
recognizer's line-level CER on the ground-truth line boxes of the same pages (what segmentation
costs is the difference); and seconds per page. Progress to stderr; the last stdout line is one
JSON object. Transcription marks of the CATMuS conventions (^ ⟦ ⟧) are removed from references.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from ml.errors import DataError
from ml.groundtruth import GroundTruthPage, cut_line, read_ground_truth
from ml.images import to_grayscale
from ml.metrics import ErrorCounter
from ml.page.pipeline import read_page
from ml.recognizer import DEFAULT_MODEL, Recognizer

IOU_MATCH = 0.5
CONVENTION_MARKS = str.maketrans("", "", "^⟦⟧")


@dataclass(frozen=True)
class EvaluatePagesConfig:
    source: Path
    model: Path = DEFAULT_MODEL
    lm: bool = True
    limit: int = 0
    threads: int = 2
    progress: bool = True


def polygon_iou(a, b) -> float:
    """IoU of the convex hulls of two polygons."""
    hull_a = cv2.convexHull(np.float32(a))
    hull_b = cv2.convexHull(np.float32(b))
    area_a, area_b = cv2.contourArea(hull_a), cv2.contourArea(hull_b)
    if area_a <= 0 or area_b <= 0:
        return 0.0
    intersection, _ = cv2.intersectConvexConvex(hull_a, hull_b)
    return float(intersection / (area_a + area_b - intersection))


def match_lines(predicted, truth) -> int:
    """How many predicted polygons match a true one one-to-one with IoU >= 0.5."""
    pairs = []
    for i, p in enumerate(predicted):
        for j, t in enumerate(truth):
            iou = polygon_iou(p, t)
            if iou >= IOU_MATCH:
                pairs.append((iou, i, j))
    used_p, used_t, matched = set(), set(), 0
    for _, i, j in sorted(pairs, reverse=True):
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            matched += 1
    return matched


def find_pages(source: Path) -> list[Path]:
    if source.is_dir():
        return sorted(source.rglob("*.xml"))
    if not source.is_file():
        raise DataError(f"{source} is neither a folder nor a manifest")
    base = source.resolve().parent
    rows = source.read_text(encoding="utf-8").splitlines()
    return [base / row.strip() for row in rows if row.strip() and not row.startswith("#")]


def _truth_polygon(line):
    if line.polygon:
        return line.polygon
    x0, y0, x1, y1 = line.bbox
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def reference_text(line) -> str:
    return line.text.translate(CONVENTION_MARKS)


def evaluate_page(recognizer: Recognizer, page: GroundTruthPage) -> dict:
    start = time.perf_counter()
    result = read_page(recognizer, page.image, alternatives=0)
    seconds = time.perf_counter() - start
    truth = [line for line in page.lines if reference_text(line).strip()]
    matched = match_lines(
        [line.polygon for line in result.lines], [_truth_polygon(line) for line in truth]
    )
    page_errors = ErrorCounter()
    page_errors.add(
        " ".join(line.text for line in result.lines),
        " ".join(reference_text(line) for line in truth),
    )
    gray = to_grayscale(page.image)
    crops = [cut_line(gray, line) for line in truth]
    line_errors = ErrorCounter()
    for reading, line in zip(recognizer.recognize(crops), truth, strict=True):
        line_errors.add(reading.text, reference_text(line))
    return {
        "page": str(page.xml),
        "predicted_lines": len(result.lines),
        "true_lines": len(truth),
        "matched_lines": matched,
        "page_errors": page_errors,
        "line_errors": line_errors,
        "seconds": seconds,
        "timings": result.timings,
    }


def run(config: EvaluatePagesConfig) -> dict:
    """Evaluate every page; returns the summary that `main` prints."""
    torch.set_num_threads(config.threads)
    recognizer = Recognizer.load(config.model, use_lm=config.lm)
    paths = find_pages(config.source)[: config.limit or None]
    if not paths:
        raise DataError(f"No ALTO or PAGE XML files in {config.source}")
    pages = []
    for path in tqdm(paths, disable=not config.progress, unit="page", file=sys.stderr):
        pages.append(evaluate_page(recognizer, read_ground_truth(path)))
    predicted = sum(p["predicted_lines"] for p in pages)
    true = sum(p["true_lines"] for p in pages)
    matched = sum(p["matched_lines"] for p in pages)
    precision = matched / max(predicted, 1)
    recall = matched / max(true, 1)
    page_errors, line_errors = ErrorCounter(), ErrorCounter()
    for p in pages:
        for total, part in ((page_errors, p["page_errors"]), (line_errors, p["line_errors"])):
            total.char_edits += part.char_edits
            total.chars += part.chars
            total.word_edits += part.word_edits
            total.words += part.words
    seconds = [p["seconds"] for p in pages]
    stages = {
        stage: round(statistics.median(p["timings"][stage] for p in pages), 3)
        for stage in pages[0]["timings"]
    }
    return {
        "source": str(config.source),
        "pages": len(pages),
        "true_lines": true,
        "predicted_lines": predicted,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(2 * precision * recall / max(precision + recall, 1e-9), 4),
        "page_cer": round(page_errors.cer, 4),
        "page_wer": round(page_errors.wer, 4),
        "gt_lines_cer": round(line_errors.cer, 4),
        "gt_lines_wer": round(line_errors.wer, 4),
        "seconds_per_page_median": round(statistics.median(seconds), 3),
        "seconds_per_page_mean": round(statistics.mean(seconds), 3),
        "stage_seconds_median": stages,
        "decoding": "beam 8 + char LM" if recognizer.lm else "greedy",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.evaluate_pages", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("source", type=Path, help="folder of page XML files, or a manifest")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--no-lm", dest="lm", action="store_false")
    parser.add_argument("--limit", type=int, default=0, help="evaluate the first N pages only")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-progress", dest="progress", action="store_false")
    args = parser.parse_args(argv)
    print(json.dumps(run(EvaluatePagesConfig(**vars(args))), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
