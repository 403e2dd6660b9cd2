"""Line recognition benchmark: our CRNN against PP-OCRv6 and Tesseract 5 on the same line images.

    python bench/htr_lines.py [--model ml/weights/crnn.pt] [--data .cache/data]
        [--sets synth stanford-handwritten ...] [--engines greedy lm ppocr tesseract]
        [--limit N] [--time-lines 200] [--out bench/results/htr_lines.md]

Needs `make data` (the held-out test manifests), `make bench-peers` for PP-OCRv6 (rapidocr 3.10,
the `bench` extra) and Debian's tesseract-ocr + tesseract-ocr-eng; a missing set or engine is
skipped with a message. Engines, each on every line of a set, in the same run:
- greedy, lm: our CRNN, greedy and beam 8 + its character LM (`Recognizer.recognize`, batches
  of 16, 2 threads);
- ppocr: PP-OCRv6 small's recognizer alone (no detection, no orientation classifier) through
  rapidocr, in rapidocr's own batches (`bench/peers/lines.py`);
- tesseract: Tesseract 5 in single-line mode (--psm 7), one line at a time, as its API works.
CER / WER are corpus-level (ml.metrics: NFC, whitespace collapsed), case-sensitive; sets marked
caseless are also scored with both sides casefolded. Speed: lines per second, image loading
included, over the first TIME_LINES lines of each set, median of 3 passes. Peers' readings of
the other lines come from `.cache/bench/` when there (ours are never cached). Also reported:
weights size, load time (median of 5), peak resident memory of a process that loads the model
and reads the French set, and how well the site's "unsure" word mark finds our LM reading's
wrong words (precision / recall, `ml.calibration`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.peers.lines import LINE_PEERS, read_cached, store  # noqa: E402
from ml.manifest import ManifestEntry, read_manifest  # noqa: E402
from ml.metrics import ErrorCounter  # noqa: E402
from ml.recognizer import DEFAULT_MODEL, LM_FILE_NAME, Recognizer  # noqa: E402


@dataclass(frozen=True)
class TestSet:
    key: str  # for --sets
    title: str
    manifest: str  # relative to --data
    path_contains: str = ""  # keep only the lines whose image path contains this
    caseless: bool = False  # also scored without case (the table scores names so)


TEST_SETS = (
    TestSet("synth", "synthetic, held-out fonts", "synth-test/manifest.tsv"),
    TestSet("stanford-handwritten", "Stanford 1905 handwritten", "stanford-test-handwritten.tsv"),
    TestSet("stanford-typewritten", "Stanford 1905 typewritten", "stanford-test-typewritten.tsv"),
    TestSet("stanford-print", "Stanford 1905 print", "stanford-test-print.tsv"),
    TestSet("fr", "French handwriting (htr-lines-fr)", "fr-test.tsv"),
    TestSet(
        "fr-modern",
        "modern French volunteers' handwriting",
        "fr-test.tsv",
        path_contains="copiste_dun_jour",
    ),
    TestSet("capitals", "modern capitals and digits", "synth-capitals/manifest.tsv", caseless=True),
    TestSet("modern", "mixed-case modern notes", "synth-modern/manifest.tsv"),
)
MEMORY_SET = "fr"
ENGINES = {
    "greedy": "ours greedy",
    "lm": "ours beam 8 + LM",
    "ppocr": "PP-OCRv6",
    "tesseract": "Tesseract",
}
REPEATS = 3
TIME_LINES = 200

Reader = Callable[[Sequence[Path]], list[str]]


def load_set(test_set: TestSet, data: Path, limit: int) -> list[ManifestEntry] | None:
    """The set's lines (the first `limit` if limit), or None when its manifest is missing."""
    path = data / test_set.manifest
    if not path.is_file():
        print(f"skipped {test_set.key}: {path} missing (run `make data`)", file=sys.stderr)
        return None
    entries = [e for e in read_manifest(path) if test_set.path_contains in str(e.image)]
    return entries[:limit] if limit else entries


class OursReader:
    """Our recognizer as a reader; keeps its latest reading of each image for the unsure flag."""

    def __init__(self, recognizer: Recognizer, beam: int | None):
        self.recognizer, self.beam = recognizer, beam
        self.lines: dict[Path, object] = {}  # image -> RecognizedLine

    def __call__(self, images: Sequence[Path]) -> list[str]:
        lines = self.recognizer.recognize(list(images), beam_width=self.beam)
        self.lines.update(zip(images, lines, strict=True))
        return [line.text for line in lines]


def readers(recognizer: Recognizer, engines: Sequence[str]) -> dict[str, tuple[Reader, object]]:
    """Each available engine's reader and its cache owner (None for ours: never cached)."""
    found = {}
    for engine in engines:
        if engine in ("greedy", "lm"):
            found[engine] = (OursReader(recognizer, 1 if engine == "greedy" else None), None)
            continue
        peer = LINE_PEERS[engine]
        reason = peer.unavailable()
        if reason:
            print(f"skipped {engine}: {reason}", file=sys.stderr)
            continue
        found[engine] = (peer.read, peer)
    return found


def run_engine(read: Reader, peer, images: list[Path], time_lines: int) -> tuple[list[str], float]:
    """Texts of all lines and lines per second over the first `time_lines`, uncached."""
    timed = images[:time_lines]
    read(timed[:1])  # warm-up: first-call allocations are no cost of reading lines
    times, texts = [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        texts = read(timed)
        times.append(time.perf_counter() - start)
    rest = images[len(timed) :]
    if peer is None:
        texts += read(rest) if rest else []
    else:
        store(peer.system(), timed, texts)
        texts += read_cached(peer, rest)
    return texts, len(timed) / statistics.median(times)


def score(texts: Sequence[str], entries: Sequence[ManifestEntry], caseless: bool) -> dict:
    """Corpus CER and WER; with caseless, both sides casefolded first."""
    counter = ErrorCounter()
    for text, entry in zip(texts, entries, strict=True):
        reference = entry.text
        if caseless:
            text, reference = text.casefold(), reference.casefold()
        counter.add(text, reference)
    return {"cer": counter.cer, "wer": counter.wer}


def evaluate_set(test_set: TestSet, entries, found: dict, time_lines: int) -> dict:
    """Every engine on the same lines of one set: scores and speed."""
    images = [e.image for e in entries]
    result = {"lines": len(entries), "timed_lines": min(time_lines, len(entries))}
    for engine, (read, peer) in found.items():
        start = time.perf_counter()
        texts, speed = run_engine(read, peer, images, time_lines)
        result[engine] = {**score(texts, entries, False), "lines_per_second": speed}
        if test_set.caseless:
            caseless = score(texts, entries, True)
            result[engine] |= {"cer_caseless": caseless["cer"], "wer_caseless": caseless["wer"]}
        seconds = time.perf_counter() - start
        print(f"{test_set.key} / {engine}: {seconds:.0f} s {result[engine]}", file=sys.stderr)
    if "lm" in found:
        result["unsure"] = unsure_flag(found["lm"][0], entries)
    for read, _ in found.values():
        if isinstance(read, OursReader):
            read.lines.clear()
    return result


def unsure_flag(reader: OursReader, entries: Sequence[ManifestEntry]) -> dict | None:
    """How well the site's "unsure" mark (word confidence below its threshold) finds our wrong
    words in the LM readings: precision and recall (ml.calibration), None without that module."""
    try:
        from ml.calibration import PRODUCT_THRESHOLD, Observations, flag_quality
    except ImportError:
        return None
    observations = Observations()
    for entry in entries:
        observations.add(reader.lines[entry.image], entry.text)
    right = observations.word_right
    precision, recall, flagged = flag_quality(
        observations.word_confidence, right, PRODUCT_THRESHOLD
    )
    return {
        "threshold": PRODUCT_THRESHOLD,
        "calibrated": getattr(reader.recognizer, "calibration", None) is not None,
        "words": len(right),
        "wrong": 1 - sum(right) / max(len(right), 1),
        "flagged": flagged,
        "precision": None if precision != precision else precision,  # NaN: nothing flagged
        "recall": recall,
    }


def peak_memory_mb(model: Path, data: Path, test_set: TestSet, limit: int) -> float:
    """Peak RSS of a fresh process that loads the model and reads a set with the LM."""
    manifest, contains = str(data / test_set.manifest), test_set.path_contains
    code = (
        "import torch; torch.set_num_threads(2);"
        "from ml.recognizer import Recognizer; from ml.manifest import read_manifest;"
        f"r = Recognizer.load({str(model)!r});"
        f"lines = [e.image for e in read_manifest({manifest!r}) if {contains!r} in str(e.image)];"
        f"r.recognize(lines[:{limit or None}]);"
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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--data", type=Path, default=ROOT / ".cache" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "htr_lines.md")
    parser.add_argument(
        "--sets", nargs="+", choices=[s.key for s in TEST_SETS], default=[s.key for s in TEST_SETS]
    )
    parser.add_argument("--engines", nargs="+", choices=list(ENGINES), default=list(ENGINES))
    parser.add_argument("--limit", type=int, default=0, help="first N lines of each set (0: all)")
    parser.add_argument(
        "--time-lines", type=int, default=TIME_LINES, help="lines of each set timed (the first)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import torch

    args = parse_args(argv)
    torch.set_num_threads(2)
    load_average = os.getloadavg()[0]
    recognizer = Recognizer.load(args.model)
    if recognizer.lm is None:
        raise SystemExit(f"{args.model} has no language model beside it")
    found = readers(recognizer, [e for e in ENGINES if e in args.engines])
    results, rows = {}, []
    for test_set in (s for s in TEST_SETS if s.key in args.sets):
        entries = load_set(test_set, args.data, args.limit)
        if entries is None:
            continue
        if not entries:
            print(f"skipped {test_set.key}: no lines", file=sys.stderr)
            continue
        results[test_set.title] = evaluate_set(test_set, entries, found, args.time_lines)
        rows += table_rows(test_set, results[test_set.title])
    if not results:
        raise SystemExit(f"No test set found under {args.data}: run `make data`")
    command = " ".join(sys.argv[1:] if argv is None else argv)
    facts = {
        "date": str(date.today()),
        "command": f"python bench/htr_lines.py {command}".strip(),
        "limit": args.limit,
        "time_lines": args.time_lines,
        "load_average_1min": load_average,
        "engines": {e: _describe(e) for e in found},
        **footprint(args, results),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report(args, facts, rows, recognizer, results))
    args.out.with_suffix(".json").write_text(json.dumps({**facts, "results": results}, indent=2))
    print(args.out)
    return 0


def footprint(args, results: dict) -> dict:
    """Weights size, load time and peak memory (on the French set, else the first one run)."""
    memory_set = next(s for s in TEST_SETS if s.key == MEMORY_SET)
    if memory_set.title not in results:
        memory_set = next(s for s in TEST_SETS if s.title in results)
    lm_file = args.model.with_name(LM_FILE_NAME)
    return {
        "weights_mb": (args.model.stat().st_size + lm_file.stat().st_size) / 1e6,
        "load_seconds": load_seconds(args.model),
        "peak_rss_mb": peak_memory_mb(args.model, args.data, memory_set, args.limit),
        "peak_rss_set": memory_set.title,
    }


def _describe(engine: str) -> str:
    return ENGINES[engine] if engine in ("greedy", "lm") else LINE_PEERS[engine].describe()


def table_rows(test_set: TestSet, result: dict) -> list[str]:
    """The set's row, and a second one scored without case for caseless sets."""
    rows = [_row(test_set.title, result, "")]
    if test_set.caseless:
        rows.append(_row(f"{test_set.title}, case-insensitive", result, "_caseless"))
    return rows


def _row(title: str, result: dict, suffix: str) -> str:
    scored = {e: result[e] for e in ENGINES if e in result}
    best = min(r["cer" + suffix] for r in scored.values())
    cells = [title, f"{result['lines']} ({result['timed_lines']} timed)"]
    for engine in ENGINES:
        if engine not in scored:
            cells.append("—")
            continue
        cer, wer = scored[engine]["cer" + suffix], scored[engine]["wer" + suffix]
        cells.append(f"**{cer:.1%}** / {wer:.1%}" if cer == best else f"{cer:.1%} / {wer:.1%}")
    if suffix:  # same lines, same readings: speed is in the row above
        cells += ["″"] * (len(ENGINES) + 1)
    else:
        speeds = {e: r["lines_per_second"] for e, r in scored.items()}
        cells += [f"{speeds[e]:.1f}" if e in speeds else "—" for e in ENGINES]
        ratio = speeds["lm"] / speeds["ppocr"] if {"lm", "ppocr"} <= speeds.keys() else None
        cells.append(f"{ratio:.2f}x" if ratio else "—")
    return "| " + " | ".join(cells) + " |"


def _table_header() -> str:
    names = list(ENGINES.values())
    columns = (
        ["test set", "lines"]
        + [f"{n} CER / WER" for n in names]
        + [f"{n} lines/s" for n in names]
        + ["speed ours LM / PP-OCRv6"]
    )
    return "| " + " | ".join(columns) + " |\n" + "|---" * len(columns) + "|"


def unsure_paragraph(results: dict) -> str:
    """The unsure flag's precision and recall per set, or nothing when it was not measured."""
    flags = {title: r["unsure"] for title, r in results.items() if r.get("unsure")}
    if not flags:
        return ""
    first = next(iter(flags.values()))
    kind = "calibrated: P(word is right)" if first["calibrated"] else "raw: no calibration.json"
    rows = "\n".join(
        f"| {title} | {f['words']} | {f['wrong']:.1%} | {f['flagged']:.1%} | "
        + (f"{f['precision']:.1%}" if f["precision"] is not None else "—")
        + f" | {f['recall']:.1%} |"
        for title, f in flags.items()
    )
    return f"""
Unsure flag: the site marks a word unsure when its confidence, as `Recognizer.load` gives it
({kind}), is below {first["threshold"]:.2f}. On ours with the LM: precision = share of the
marked words that are wrong, recall = share of the wrong words that are marked (`ml.calibration`;
a word is right when it equals the reference word aligned to it).

| test set | words | wrong | marked unsure | precision | recall |
|---|---|---|---|---|---|
{rows}
"""


def report(args, facts: dict, rows: list[str], recognizer: Recognizer, results: dict) -> str:
    meta = recognizer.metadata
    model = args.model.relative_to(ROOT) if args.model.is_relative_to(ROOT) else args.model
    peers = "\n".join(
        f"- {ENGINES[e]}: {d}" for e, d in facts["engines"].items() if e not in ("greedy", "lm")
    )
    limit = f"the first {args.limit} lines of each set" if args.limit else "every line of each set"
    return f"""# Line recognition: our CRNN vs PP-OCRv6 and Tesseract 5

Measured {facts["date"]} on {platform.machine()}, {_cpu()}, 2 threads, Python
{platform.python_version()}, torch {meta.get("torch_version", "?")} (training) /
{__import__("torch").__version__} (here); 1-minute load average at the start:
{facts["load_average_1min"]:.1f} (speeds are depressed when it is above the 2 cores).
Command: `{facts["command"]}`

Model `{model}` (created {meta.get("created", "?")}, code {meta.get("code_version", "?")}) with
its character LM (weight {recognizer.lm.weight}, length bonus {recognizer.lm.length_bonus}),
batches of 16. Peers:
{peers or "- none available"}

Every engine reads the same images, {limit}, converted to grayscale the same
way. CER / WER: corpus-level, NFC, whitespace collapsed, case-sensitive; the capitals set also
case-insensitive (both sides casefolded). Bold: the best CER of the row. Speed: lines per second
over the first {args.time_lines} lines of each set (fewer if the set is smaller), image loading
included, median of {REPEATS} passes after a one-line warm-up, all engines in the same run; ours
and PP-OCRv6 batched, Tesseract one line at a time. PP-OCRv6's reading of a line depends
slightly on its batch neighbours (rapidocr pads a batch to its widest line); its and
Tesseract's readings of the untimed lines may come from `.cache/bench/`.

{_table_header()}
{chr(10).join(rows)}
{unsure_paragraph(results)}
- Weights (model + LM): {facts["weights_mb"]:.1f} MB; model + LM load time (median of 5):
  {facts["load_seconds"] * 1000:.0f} ms.
- Peak resident memory of a process that loads both and reads the set
  "{facts["peak_rss_set"]}" with the LM: {facts["peak_rss_mb"]:.0f} MB.
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
