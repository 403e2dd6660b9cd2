"""What each decoding step brings: greedy, beam search, beam search with the character LM.

    python bench/lm_decoding.py [--model ml/weights/crnn.pt] [--data .cache/data]

Uses the model's LM as committed (built from training text only, weight and bonus tuned on the
validation sets by `python -m ml.lm tune`). The network runs once per set; decoding is repeated
per method, and its time is reported per line (network time excluded).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from ml.ctc import decode  # noqa: E402
from ml.images import prepare_line  # noqa: E402
from ml.manifest import read_manifest  # noqa: E402
from ml.metrics import ErrorCounter  # noqa: E402
from ml.recognizer import DEFAULT_MODEL, Recognizer, line_log_probs  # noqa: E402

SETS = (
    "stanford-val.tsv",
    "fr-val.tsv",
    "stanford-test-handwritten.tsv",
    "stanford-test-typewritten.tsv",
    "fr-test.tsv",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--data", type=Path, default=ROOT / ".cache" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "lm_decoding.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    recognizer = Recognizer.load(args.model)
    lm = recognizer.lm
    methods = {
        "greedy": {},
        "beam 8": {"beam_width": 8},
        "beam 8 + char LM": {
            "beam_width": 8,
            "lm": lm,
            "lm_weight": lm.weight,
            "length_bonus": lm.length_bonus,
        },
    }
    rows = []
    for name in SETS:
        entries = read_manifest(args.data / name)
        lines = [prepare_line(e.image, recognizer.height) for e in entries]
        log_probs = line_log_probs(recognizer.network, lines)
        for method, options in methods.items():
            counter = ErrorCounter()
            start = time.perf_counter()
            for lp, entry in zip(log_probs, entries, strict=True):
                counter.add(decode(lp, recognizer.charset, **options).text, entry.text)
            ms = (time.perf_counter() - start) * 1000 / len(entries)
            rows.append(
                f"| {name.removesuffix('.tsv')} | {method} | {counter.cer:.1%} | "
                f"{counter.wer:.1%} | {ms:.1f} |"
            )
            print(rows[-1], file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"""# Decoding: greedy vs beam search vs beam search with a character LM

Measured {date.today()}; command: `python bench/lm_decoding.py {" ".join(sys.argv[1:])}`.
Model `{args.model.name}`; LM: character {lm.order}-gram, Witten-Bell, {len(lm.counts):,}
contexts, built from the transcriptions of fr-train and stanford-train plus 50,000 rendered
English note lines (no validation or test text); weight {lm.weight} and length bonus
{lm.length_bonus} chosen on the mean CER of stanford-val and fr-val (`python -m ml.lm tune`),
so the val rows are optimistic and the test rows are the honest ones. "ms/line" is decoding
time only.

| set | decoding | CER | WER | ms/line |
|---|---|---|---|---|
{chr(10).join(rows)}
""")
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
