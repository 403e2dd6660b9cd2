"""Line recognition benchmark: our CRNN against Tesseract 5 on the same line images.

    python bench/htr_lines.py [--model ml/weights/crnn.pt] [--data .cache/data] \
        [--out bench/results/htr_lines.md]

Needs `make data` (manifests of the held-out test sets) and Debian's tesseract-ocr +
tesseract-ocr-eng. For every test set, both engines read every line; CER/WER are corpus-level
(ml.metrics). Speed is lines per second over the whole set, image loading included: ours batched
(16 lines) on 2 threads, Tesseract one line at a time in line mode (--psm 7), as its API works.
Each engine reads the set three times and the median time counts. Also reported: model file
size, load time (median of 5), peak resident memory of a process that loads the model and reads
a set.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ml.manifest import read_manifest  # noqa: E402
from ml.metrics import ErrorCounter  # noqa: E402
from ml.recognizer import DEFAULT_MODEL, Recognizer  # noqa: E402

TEST_SETS = {
    "synthetic, held-out fonts": "synth-test/manifest.tsv",
    "Stanford 1905 handwritten": "stanford-test-handwritten.tsv",
    "Stanford 1905 typewritten": "stanford-test-typewritten.tsv",
    "Stanford 1905 print": "stanford-test-print.tsv",
    "French handwriting (htr-lines-fr)": "fr-test.tsv",
}
REPEATS = 3


def score(hypotheses, entries) -> ErrorCounter:
    counter = ErrorCounter()
    for hypothesis, entry in zip(hypotheses, entries, strict=True):
        counter.add(hypothesis, entry.text)
    return counter


def ours(recognizer: Recognizer, entries, beam: int) -> tuple[list[str], float]:
    times, texts = [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        texts = [r.text for r in recognizer.recognize([e.image for e in entries], beam_width=beam)]
        times.append(time.perf_counter() - start)
    return texts, statistics.median(times)


def tesseract(entries) -> tuple[list[str], float]:
    from PIL import Image
    from tesserocr import PSM, PyTessBaseAPI

    times, texts = [], []
    with PyTessBaseAPI(lang="eng", psm=PSM.SINGLE_LINE) as api:
        for _ in range(REPEATS):
            start = time.perf_counter()
            texts = []
            for entry in entries:
                with Image.open(entry.image) as image:
                    api.SetImage(image.convert("L"))
                    texts.append(api.GetUTF8Text().strip())
            times.append(time.perf_counter() - start)
    return texts, statistics.median(times)


def peak_memory_mb(model: Path, manifest: Path) -> float:
    """Peak RSS of a fresh process that loads the model and reads one set."""
    code = (
        "import resource, sys, torch; torch.set_num_threads(2);"
        "from ml.recognizer import Recognizer; from ml.manifest import read_manifest;"
        f"r = Recognizer.load({str(model)!r});"
        f"r.recognize([e.image for e in read_manifest({str(manifest)!r})]);"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return int(out.strip().splitlines()[-1]) / 1024


def load_seconds(model: Path) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        Recognizer.load(model)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--data", type=Path, default=ROOT / ".cache" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "htr_lines.md")
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument("--no-tesseract", dest="tesseract", action="store_false")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    recognizer = Recognizer.load(args.model)
    rows, results = [], {}
    for name, relative in TEST_SETS.items():
        entries = read_manifest(args.data / relative)
        texts, seconds = ours(recognizer, entries, args.beam)
        mine = score(texts, entries)
        result = {
            "lines": len(entries),
            "cer": mine.cer,
            "wer": mine.wer,
            "lines_per_second": len(entries) / seconds,
        }
        if args.tesseract:
            t_texts, t_seconds = tesseract(entries)
            theirs = score(t_texts, entries)
            result |= {
                "tesseract_cer": theirs.cer,
                "tesseract_wer": theirs.wer,
                "tesseract_lines_per_second": len(entries) / t_seconds,
            }
        results[name] = result
        print(name, json.dumps(result), file=sys.stderr)
        rows.append(_row(name, result))
    memory = peak_memory_mb(args.model, args.data / TEST_SETS["French handwriting (htr-lines-fr)"])
    size_mb = args.model.stat().st_size / 1e6
    load = load_seconds(args.model)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(_report(args, rows, recognizer, size_mb, load, memory))
    (args.out.with_suffix(".json")).write_text(
        json.dumps(
            {"results": results, "model_mb": size_mb, "load_seconds": load, "peak_rss_mb": memory},
            indent=2,
        )
    )
    print(args.out)
    return 0


def _row(name: str, r: dict) -> str:
    cells = [name, str(r["lines"]), f"{r['cer']:.1%}", f"{r['wer']:.1%}"]
    if "tesseract_cer" in r:
        cells += [f"{r['tesseract_cer']:.1%}", f"{r['tesseract_wer']:.1%}"]
    cells.append(f"{r['lines_per_second']:.1f}")
    if "tesseract_cer" in r:
        ratio = r["lines_per_second"] / r["tesseract_lines_per_second"]
        cells += [f"{r['tesseract_lines_per_second']:.1f}", f"{ratio:.2f}x"]
    return "| " + " | ".join(cells) + " |"


def _report(args, rows, recognizer, size_mb, load, memory) -> str:
    meta = recognizer.metadata
    header = (
        "| test set | lines | CER | WER | Tesseract CER | Tesseract WER | lines/s | "
        "Tesseract lines/s | speed ratio |\n|---|---|---|---|---|---|---|---|---|"
    )
    if not args.tesseract:
        header = "| test set | lines | CER | WER | lines/s |\n|---|---|---|---|---|"
    command = "python bench/htr_lines.py " + " ".join(sys.argv[1:])
    return f"""# Line recognition: our CRNN vs Tesseract 5

Measured {date.today()} on {platform.machine()}, {_cpu()} (2 threads), Python
{platform.python_version()}. Command: `{command.strip()}`

Model: `{args.model.relative_to(ROOT) if args.model.is_relative_to(ROOT) else args.model}`
(trained {meta.get("created", "?")}, code {meta.get("code_version", "?")}), decoding:
{"greedy" if args.beam <= 1 else f"beam {args.beam}"}. Tesseract: `tesserocr`, `eng`, `--psm 7`.
CER/WER corpus-level, NFC, whitespace collapsed, case-sensitive. Speed: median of {REPEATS}
passes over the whole set, image loading included; "speed ratio" = ours / Tesseract.

{header}
{chr(10).join(rows)}

- Model file: {size_mb:.1f} MB; load time (median of 5): {load * 1000:.0f} ms.
- Peak resident memory of a process that loads the model and reads the French test set:
  {memory:.0f} MB.
"""


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
