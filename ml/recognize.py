"""Read pages or single lines and print their text.

    python -m ml.recognize PAGE_IMAGE... [--model PATH] [--json]
    python -m ml.recognize --line IMAGE... [--model PATH] [--json]

Pages: each page's text in reading order, one text line per output line, pages separated by a
form feed. Lines (--line): one output line per image. With --json, one JSON object per page (its
lines with polygon, baseline, block, text, confidence and word alternatives, plus the seconds
spent in each stage; `partial` when the page's time budget ran out, with its unread lines
marked `"read": false`) or per line image.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from ml.errors import MLError
from ml.page.budget import PageBudget
from ml.page.pipeline import PageResult, read_page
from ml.page.segmenter import DEFAULT_SEGMENTER, LineSegmenter
from ml.recognizer import DEFAULT_MODEL, RecognizedLine, Recognizer


@dataclass(frozen=True)
class RecognizeConfig:
    images: tuple[Path, ...]
    lines: bool = False  # the images are single text lines, not pages
    model: Path = DEFAULT_MODEL
    beam: int | None = None  # None: beam search with the model's LM if it has one, else greedy
    lm: bool = True
    alternatives: int = 3
    threads: int = 2
    segmenter: Path = DEFAULT_SEGMENTER
    page_seconds: float = PageBudget().seconds


def words_to_list(words) -> list[dict]:
    return [
        {
            "text": word.text,
            "confidence": round(word.confidence, 4),
            "alternatives": [
                {"text": alt.text, "probability": round(alt.probability, 4)}
                for alt in word.alternatives
            ],
        }
        for word in words
    ]


def line_to_dict(image: Path, line: RecognizedLine) -> dict:
    return {
        "image": str(image),
        "text": line.text,
        "confidence": round(line.confidence, 4),
        "char_confidences": [round(c, 4) for c in line.char_confidences],
        "words": words_to_list(line.words),
    }


def page_to_dict(image: Path, page: PageResult) -> dict:
    return {
        "image": str(image),
        "width": page.width,
        "height": page.height,
        "skew_degrees": page.skew,
        "partial": page.partial,
        "timings": {stage: round(seconds, 4) for stage, seconds in page.timings.items()},
        "lines": [
            {
                "polygon": [list(point) for point in line.polygon],
                "baseline": [list(point) for point in line.baseline],
                "block": line.block,
                "text": line.text,
                "confidence": round(line.confidence, 4),
                "words": words_to_list(line.words),
                "read": line.read,
            }
            for line in page.lines
        ],
    }


def run(config: RecognizeConfig) -> list[RecognizedLine] | list[PageResult]:
    """Recognize every image; lines or pages depending on `config.lines`."""
    torch.set_num_threads(config.threads)
    recognizer = Recognizer.load(config.model, use_lm=config.lm)
    if config.lines:
        return recognizer.recognize(
            list(config.images), beam_width=config.beam, alternatives=config.alternatives
        )
    segmenter = LineSegmenter.load(config.segmenter)
    budget = PageBudget(seconds=config.page_seconds)
    return [
        read_page(
            recognizer,
            image,
            beam_width=config.beam,
            alternatives=config.alternatives,
            budget=budget,
            segmenter=segmenter,
        )
        for image in config.images
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.recognize", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "images", type=Path, nargs="*", metavar="PAGE_IMAGE", help="photos or scans of pages"
    )
    parser.add_argument(
        "--line",
        dest="line_images",
        type=Path,
        nargs="+",
        metavar="IMAGE",
        help="images of single text lines (instead of pages)",
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--segmenter", type=Path, default=DEFAULT_SEGMENTER)
    parser.add_argument(
        "--page-seconds",
        type=float,
        default=PageBudget().seconds,
        help="time budget per page; lines not read by then are reported unread",
    )
    parser.add_argument(
        "--beam",
        type=int,
        default=None,
        help="beam width (1: greedy; default: 8 with the model's LM, else 1)",
    )
    parser.add_argument(
        "--no-lm",
        dest="lm",
        action="store_false",
        help="ignore the language model beside the model file",
    )
    parser.add_argument(
        "--alternatives", type=int, default=3, help="alternative readings per word in --json output"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="one JSON object per image")
    args = parser.parse_args(argv)
    if bool(args.images) == bool(args.line_images):
        parser.error("give page images, or line images after --line (not both)")
    config = RecognizeConfig(
        images=tuple(args.line_images or args.images),
        lines=bool(args.line_images),
        model=args.model,
        beam=args.beam,
        lm=args.lm,
        alternatives=args.alternatives if args.json else 0,
        threads=args.threads,
        segmenter=args.segmenter,
        page_seconds=args.page_seconds,
    )
    try:
        results = run(config)
    except MLError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if config.lines:
        for image, line in zip(config.images, results, strict=True):
            print(
                json.dumps(line_to_dict(image, line), ensure_ascii=False)
                if args.json
                else line.text
            )
    elif args.json:
        for image, page in zip(config.images, results, strict=True):
            print(json.dumps(page_to_dict(image, page), ensure_ascii=False))
    else:
        print("\f".join(page.text + "\n" for page in results), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
