"""Does beam search, with or without the character n-gram LM, beat greedy decoding?

    python bench/lm_decoding.py [--model ml/weights/crnn.pt] [--data .cache/data] \
        [--out bench/results/lm_decoding.md]

The LM is built from training text only (transcriptions of fr-train and stanford-train, plus
rendered English note text). Its weight and length bonus are chosen on the validation sets
(stanford-val, fr-val); the test sets are decoded once with the chosen values. The network runs
once per set; only decoding is repeated, and its time is reported per line.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from ml.ctc import decode  # noqa: E402
from ml.images import prepare_line  # noqa: E402
from ml.lm import CharNgramLM, training_lines  # noqa: E402
from ml.manifest import read_manifest  # noqa: E402
from ml.metrics import ErrorCounter  # noqa: E402
from ml.recognizer import DEFAULT_MODEL, Recognizer, line_log_probs  # noqa: E402

VALIDATION = ("stanford-val.tsv", "fr-val.tsv")
TEST = ("stanford-test-handwritten.tsv", "stanford-test-typewritten.tsv", "fr-test.tsv")
WEIGHTS = (0.2, 0.4, 0.7)
BONUSES = (0.0, 1.0, 2.0)
BEAM = 8


def network_outputs(recognizer: Recognizer, manifest: Path):
    entries = read_manifest(manifest)
    lines = [prepare_line(e.image, recognizer.height) for e in entries]
    return line_log_probs(recognizer.model, lines), [e.text for e in entries]


def cer(outputs, charset, **options) -> tuple[float, float, float]:
    """(CER, WER, ms per line) of decoding cached network outputs."""
    counter = ErrorCounter()
    log_probs, references = outputs
    start = time.perf_counter()
    for lp, reference in zip(log_probs, references, strict=True):
        counter.add(decode(lp, charset, **options).text, reference)
    return counter.cer, counter.wer, (time.perf_counter() - start) * 1000 / len(references)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--data", type=Path, default=ROOT / ".cache" / "data")
    parser.add_argument("--lm-out", type=Path, default=ROOT / "runs" / "charlm.json.gz")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "lm_decoding.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    recognizer = Recognizer.load(args.model)
    charset = recognizer.charset
    text = [args.data / "fr-train.tsv", args.data / "stanford-train.tsv"]
    lm = CharNgramLM.train(training_lines(text, synthetic_lines=50_000), order=6)
    args.lm_out.parent.mkdir(parents=True, exist_ok=True)
    lm.save(args.lm_out)
    val = {name: network_outputs(recognizer, args.data / name) for name in VALIDATION}

    def mean_val_cer(**options) -> float:
        return sum(cer(outputs, charset, **options)[0] for outputs in val.values()) / len(val)

    grid = []
    for weight, bonus in itertools.product(WEIGHTS, BONUSES):
        grid.append(
            (
                mean_val_cer(beam_width=BEAM, lm=lm, lm_weight=weight, length_bonus=bonus),
                weight,
                bonus,
            )
        )
        print("val", grid[-1], file=sys.stderr)
    best_val, weight, bonus = min(grid)
    methods = {
        "greedy": {},
        f"beam {BEAM}": {"beam_width": BEAM},
        f"beam {BEAM} + 6-gram char LM (weight {weight}, bonus {bonus})": {
            "beam_width": BEAM,
            "lm": lm,
            "lm_weight": weight,
            "length_bonus": bonus,
        },
    }
    rows = []
    for name in VALIDATION + TEST:
        outputs = val.get(name) or network_outputs(recognizer, args.data / name)
        for method, options in methods.items():
            c, w, ms = cer(outputs, charset, **options)
            rows.append(
                f"| {name.removesuffix('.tsv')} | {method} | {c:.1%} | {w:.1%} | {ms:.1f} |"
            )
            print(rows[-1], file=sys.stderr)
    grid_rows = "\n".join(
        f"| {w} | {b} | {c:.2%} |" for c, w, b in sorted(grid, key=lambda g: g[1:])
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"""# Decoding: greedy vs beam search vs beam search with a character LM

Measured {date.today()}; command: `python bench/lm_decoding.py {" ".join(sys.argv[1:])}`.
Model `{args.model.name}`; LM: character 6-gram, Witten-Bell, {len(lm.counts):,} contexts, built
from the transcriptions of fr-train and stanford-train and 50,000 rendered English note lines
(no validation or test text). Weight and bonus chosen on the mean CER of stanford-val and
fr-val; "ms/line" is decoding time only (the network runs once per set).

Grid on validation (mean CER of the two sets):

| LM weight | length bonus | mean val CER |
|---|---|---|
{grid_rows}

| set | decoding | CER | WER | ms/line |
|---|---|---|---|---|
{chr(10).join(rows)}
""")
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
