"""Read line images and print their text.

    python -m ml.recognize --line IMAGE... [--model PATH] [--beam 8] [--json]

One output line per input image. With --json, one JSON object per image instead: the text, the
line confidence, a confidence per character, and each word with its confidence and its top
alternative readings.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from ml.errors import MLError
from ml.recognizer import DEFAULT_MODEL, RecognizedLine, Recognizer


@dataclass(frozen=True)
class RecognizeConfig:
    lines: tuple[Path, ...]
    model: Path = DEFAULT_MODEL
    beam: int | None = None  # None: beam search with the model's LM if it has one, else greedy
    lm: bool = True
    alternatives: int = 3
    threads: int = 2


def line_to_dict(image: Path, line: RecognizedLine) -> dict:
    return {
        "image": str(image),
        "text": line.text,
        "confidence": round(line.confidence, 4),
        "char_confidences": [round(c, 4) for c in line.char_confidences],
        "words": [
            {
                "text": word.text,
                "confidence": round(word.confidence, 4),
                "alternatives": [
                    {"text": alt.text, "probability": round(alt.probability, 4)}
                    for alt in word.alternatives
                ],
            }
            for word in line.words
        ],
    }


def run(config: RecognizeConfig) -> list[RecognizedLine]:
    torch.set_num_threads(config.threads)
    recognizer = Recognizer.load(config.model, use_lm=config.lm)
    return recognizer.recognize(
        list(config.lines), beam_width=config.beam, alternatives=config.alternatives
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.recognize", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--line",
        dest="lines",
        type=Path,
        nargs="+",
        required=True,
        metavar="IMAGE",
        help="images of single text lines",
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
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
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args(argv)
    config = RecognizeConfig(
        lines=tuple(args.lines),
        model=args.model,
        beam=args.beam,
        lm=args.lm,
        alternatives=args.alternatives if args.json else 0,
        threads=args.threads,
    )
    try:
        results = run(config)
    except MLError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for image, line in zip(config.lines, results, strict=True):
        print(json.dumps(line_to_dict(image, line), ensure_ascii=False) if args.json else line.text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
