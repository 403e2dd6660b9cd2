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
from ml.recognizer import DEFAULT_MODEL, LM_FILE_NAME, Recognizer  # noqa: E402

TABLE_HEADER = (
    "| test set | lines | greedy CER / WER | beam 8 + LM CER / WER | Tesseract CER / WER "
    "| greedy lines/s | LM lines/s | Tesseract lines/s | speed ratio greedy / LM |\n"
    "|---|---|---|---|---|---|---|---|---|"
)
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


def ours(recognizer: Recognizer, entries, beam: int | None) -> tuple[list[str], float]:
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
    with PyTessBaseAPI(path=_tessdata(), lang="eng", psm=PSM.SINGLE_LINE) as api:
        for _ in range(REPEATS):
            start = time.perf_counter()
            texts = []
            for entry in entries:
                with Image.open(entry.image) as image:
                    api.SetImage(image.convert("L"))
                    texts.append(api.GetUTF8Text().strip())
            times.append(time.perf_counter() - start)
    return texts, statistics.median(times)


def _tessdata() -> str:
    """Debian's tessdata folder (tesserocr's compiled-in default may point elsewhere)."""
    found = sorted(Path("/usr/share/tesseract-ocr").glob("*/tessdata"))
    if not found:
        raise SystemExit("Tesseract data not found: apt install tesseract-ocr tesseract-ocr-eng")
    return str(found[-1]) + "/"


def peak_memory_mb(model: Path, manifest: Path) -> float:
    """Peak RSS of a fresh process that loads the model and reads one set."""
    code = (
        "import torch; torch.set_num_threads(2);"
        "from ml.recognizer import Recognizer; from ml.manifest import read_manifest;"
        f"r = Recognizer.load({str(model)!r});"
        f"r.recognize([e.image for e in read_manifest({str(manifest)!r})]);"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
        "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"
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
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    recognizer = Recognizer.load(args.model)
    if recognizer.lm is None:
        raise SystemExit(f"{args.model} has no language model beside it")
    rows, results = [], {}
    for name, relative in TEST_SETS.items():
        entries = read_manifest(args.data / relative)
        greedy_texts, greedy_seconds = ours(recognizer, entries, beam=1)
        lm_texts, lm_seconds = ours(recognizer, entries, beam=None)
        tess_texts, tess_seconds = tesseract(entries)
        result = {"lines": len(entries)}
        for key, texts, seconds in (
            ("greedy", greedy_texts, greedy_seconds),
            ("lm", lm_texts, lm_seconds),
            ("tesseract", tess_texts, tess_seconds),
        ):
            counter = score(texts, entries)
            result[key] = {
                "cer": counter.cer,
                "wer": counter.wer,
                "lines_per_second": len(entries) / seconds,
            }
        results[name] = result
        print(name, json.dumps(result), file=sys.stderr)
        rows.append(_row(name, result))
    memory = peak_memory_mb(args.model, args.data / TEST_SETS["French handwriting (htr-lines-fr)"])
    lm_file = args.model.with_name(LM_FILE_NAME)
    size_mb = (args.model.stat().st_size + lm_file.stat().st_size) / 1e6
    load = load_seconds(args.model)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(_report(args, rows, recognizer, size_mb, load, memory))
    args.out.with_suffix(".json").write_text(
        json.dumps(
            {
                "results": results,
                "weights_mb": size_mb,
                "load_seconds": load,
                "peak_rss_mb": memory,
            },
            indent=2,
        )
    )
    print(args.out)
    return 0


def _row(name: str, r: dict) -> str:
    g, lm, t = r["greedy"], r["lm"], r["tesseract"]
    cells = [
        name,
        str(r["lines"]),
        f"{g['cer']:.1%} / {g['wer']:.1%}",
        f"**{lm['cer']:.1%}** / {lm['wer']:.1%}",
        f"{t['cer']:.1%} / {t['wer']:.1%}",
        f"{g['lines_per_second']:.0f}",
        f"{lm['lines_per_second']:.0f}",
        f"{t['lines_per_second']:.0f}",
        f"{g['lines_per_second'] / t['lines_per_second']:.1f}x / "
        f"{lm['lines_per_second'] / t['lines_per_second']:.1f}x",
    ]
    return "| " + " | ".join(cells) + " |"


def _report(args, rows, recognizer, size_mb, load, memory) -> str:
    meta = recognizer.metadata
    model = args.model.relative_to(ROOT) if args.model.is_relative_to(ROOT) else args.model
    command = ("python bench/htr_lines.py " + " ".join(sys.argv[1:])).strip()
    return f"""# Line recognition: our CRNN vs Tesseract 5

Measured {date.today()} on {platform.machine()}, {_cpu()}, 2 threads, Python
{platform.python_version()}, torch {meta.get("torch_version", "?")} (training) /
{__import__("torch").__version__} (here). Command: `{command}`

Model `{model}` (created {meta.get("created", "?")}, code {meta.get("code_version", "?")}) with
its character LM (weight {recognizer.lm.weight}, length bonus {recognizer.lm.length_bonus}).
Tesseract 5 through `tesserocr`, `eng`, `--psm 7` (single line). All three read the same
images. CER / WER: corpus-level, NFC, whitespace collapsed, case-sensitive. Speed: lines per
second over the whole set, image loading included, median of {REPEATS} passes; ratios are
ours / Tesseract, measured in the same run.

{TABLE_HEADER}
{chr(10).join(rows)}

- Weights (model + LM): {size_mb:.1f} MB; model + LM load time (median of 5): {load * 1000:.0f} ms.
- Peak resident memory of a process that loads both and reads the French test set with the
  LM: {memory:.0f} MB.
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
