"""Measure a model on a manifest of line images: CER, WER and speed.

    python -m ml.evaluate MANIFEST [--model PATH] [--beam 8] [--errors 20]

Progress goes to stderr; the last line of stdout is one JSON object with at least `lines`, `cer`,
`wer`, `seconds` and `lines_per_second`. CER and WER are corpus-level, after NFC and whitespace
collapsing, case-sensitive (ml.metrics). References are taken as written in the manifest; the
model's charset normalization is not applied to them, so a character the model cannot emit
counts as an error. Time covers image loading, preprocessing, the network and decoding.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from ml.manifest import read_manifest
from ml.metrics import ErrorCounter
from ml.recognizer import DEFAULT_MODEL, Recognizer


@dataclass(frozen=True)
class EvaluateConfig:
    manifest: Path
    model: Path = DEFAULT_MODEL
    beam: int | None = None  # None: beam search with the model's LM if it has one, else greedy
    lm: bool = True
    batch_size: int = 16
    threads: int = 2
    errors: int = 0  # print this many worst lines to stderr
    progress: bool = True


def run(config: EvaluateConfig) -> dict:
    """Evaluate; returns the metrics dictionary that `main` prints."""
    torch.set_num_threads(config.threads)
    entries = read_manifest(config.manifest)
    started = time.perf_counter()
    recognizer = Recognizer.load(config.model, use_lm=config.lm, batch_size=config.batch_size)
    load_seconds = time.perf_counter() - started
    counter = ErrorCounter()
    worst = []
    start = time.perf_counter()
    chunk = config.batch_size * 4
    with tqdm(total=len(entries), disable=not config.progress, unit="line", file=sys.stderr) as bar:
        for i in range(0, len(entries), chunk):
            batch = entries[i : i + chunk]
            results = recognizer.recognize([e.image for e in batch], beam_width=config.beam)
            for entry, result in zip(batch, results, strict=True):
                before = counter.char_edits
                counter.add(result.text, entry.text)
                worst.append((counter.char_edits - before, entry.text, result.text))
            bar.update(len(batch))
    seconds = time.perf_counter() - start
    for edits, reference, hypothesis in sorted(worst, reverse=True)[: config.errors]:
        print(f"{edits:3d}  ref: {reference}\n     hyp: {hypothesis}", file=sys.stderr)
    return {
        "manifest": str(config.manifest),
        "model": str(config.model),
        "lines": counter.lines,
        "chars": counter.chars,
        "words": counter.words,
        "cer": round(counter.cer, 4),
        "wer": round(counter.wer, 4),
        "decoding": describe_decoding(recognizer, config.beam),
        "seconds": round(seconds, 3),
        "lines_per_second": round(counter.lines / max(seconds, 1e-9), 2),
        "model_load_seconds": round(load_seconds, 3),
    }


def describe_decoding(recognizer: Recognizer, beam: int | None) -> str:
    width = beam if beam is not None else (8 if recognizer.lm else 1)
    if width <= 1:
        return "greedy"
    return f"beam {width}" + (" + char LM" if recognizer.lm else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.evaluate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("manifest", type=Path, help="TSV of image_path<TAB>transcription")
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
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--errors", type=int, default=0, help="show the N worst lines")
    parser.add_argument("--no-progress", dest="progress", action="store_false")
    args = parser.parse_args(argv)
    metrics = run(EvaluateConfig(**vars(args)))
    print(json.dumps(metrics, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
