"""Personal models: how much a fine-tune on N corrected lines of one writer helps, how long it
takes on this CPU, how much memory it needs, and how recognition fares meanwhile.

    python bench/personal_model.py [--sizes 50 200 500] [--minutes 10] [--threads 1]
        [--out bench/results/personal_model.md]

Writers (a person who corrects N lines, then reads unseen lines of theirs):
- `font:<name>`: a handwriting font of the test split (never in the base model's training),
  the one the base model reads worst of them; lines of notes text rendered with the training
  augmentation (paper, ink, blur, photo noise), N from a pool, 100 other lines held out by the
  fine-tune (as the platform keeps a fifth of a user's corrections aside), measured on 200 more.
- `peraire`: one person's diaries (`../shared/data/htr-lines-fr/peraire`), pages that are not
  in the base model's training split (the writer is: other pages of the same diaries trained
  it, so this is a writer the model has seen, on unseen pages); a third of the pages measured,
  the rest a pool whose last fifth of pages the fine-tune holds out.
Each fine-tune runs as the platform runs it (`ml.finetune`, the default recipe, replaying
rendered lines in the training fonts, `--threads` torch threads) in a child process whose
peak resident memory is reported; it decides on its held-out lines whether the new model is
better and fits the new model's confidence calibration there. N = 0 is the base model. CER:
corpus-level on the measured lines, as the platform decodes (beam search with the LM). The
"unsure" flag (a word whose calibrated confidence is under 0.60, as the site marks it) is
scored on the measured lines: precision = share of flagged words that are wrong, recall =
share of wrong words flagged; for a personal model with its own calibration and, to show
what refitting brings, with its base's maps and raw (uncalibrated, as personal models were
before they carried their own maps). While the N=200 fine-tune of the font writer runs, this
process reads a batch of 32 lines (a page) again and again on one thread, as a recognition
worker does; its median seconds are compared with the same batch read before, idle.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ml.calibration import PRODUCT_THRESHOLD, flag_quality, word_correctness  # noqa: E402
from ml.finetune import FineTuneRecipe, held_out_cer  # noqa: E402
from ml.manifest import ManifestEntry, write_manifest  # noqa: E402
from ml.metrics import ErrorCounter  # noqa: E402
from ml.prepare import fr_split  # noqa: E402
from ml.recognizer import DEFAULT_MODEL, LM_FILE_NAME, Recognizer  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
WORK = ROOT / ".cache" / "bench" / "personal"
FONTS = ROOT / ".cache" / "fonts"
LM = DEFAULT_MODEL.with_name(LM_FILE_NAME)
PAGE_LINES = 32
HELD_OUT_LINES = 100  # of the font writer, for the fine-tune's own verdict and calibration
MEASURED_LINES = 200


def font_writer(pool: int) -> tuple[str, list[ManifestEntry], list[ManifestEntry],
                                    list[ManifestEntry]]:
    """The test-split handwriting font the base model reads worst: (name, pool, held out,
    measured)."""
    from ml.charset import DEFAULT_CHARSET
    from ml.data import render_eval_set
    from ml.synth.fonts import load_fonts
    from ml.synth.text import Vocabulary

    vocabulary = Vocabulary.from_wordfreq(DEFAULT_CHARSET)
    fonts = load_fonts(FONTS, split="test", style="handwriting")
    worst, worst_cer = None, -1.0
    for font in fonts:
        probe = _save(render_eval_set([font], vocabulary, 30, seed=11), WORK / "probe" / font.name)
        cer = held_out_cer(DEFAULT_MODEL, probe, lm_path=LM)
        print(f"  base CER on {font.name}: {cer:.3f}", file=sys.stderr)
        if cer > worst_cer:
            worst, worst_cer = font, cer
    folder = WORK / f"font-{worst.name}"
    lines = render_eval_set([worst], vocabulary, pool + MEASURED_LINES + HELD_OUT_LINES, seed=2029)
    entries = _save(lines, folder)
    # The measured lines are the ones earlier runs of this benchmark measured on.
    measured, held = entries[pool : pool + MEASURED_LINES], entries[pool + MEASURED_LINES :]
    return f"font:{worst.name}", entries[:pool], held, measured


def _save(lines, folder: Path) -> list[ManifestEntry]:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, (image, text) in enumerate(lines):
        path = folder / f"{i:04d}.png"
        cv2.imwrite(str(path), image)
        entries.append(ManifestEntry(path, text))
    return entries


def peraire_writer() -> tuple[str, list[ManifestEntry], list[ManifestEntry],
                               list[ManifestEntry]]:
    """Lines of peraire pages outside the training split: (name, pool, held out, measured),
    whole pages on each side, a third of the pages measured."""
    root = DATA / "htr-lines-fr"
    sources = {}
    with gzip.open(root / "lines_meta.tsv.gz", "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["dataset"] == "peraire":
                sources[row["jpg"]] = f"peraire/{row['source_xml']}"
    pages: dict[str, list[ManifestEntry]] = {}
    with open(root / "peraire" / "lines_norm.tsv", encoding="utf-8") as f:
        for row in f:
            image, _, text = row.rstrip("\n").partition("\t")
            source = sources.get(image, f"peraire/{image}")
            if text.strip() and fr_split(source) != "train":
                pages.setdefault(source, []).append(
                    ManifestEntry((root / "peraire" / image).resolve(), text))
    order = sorted(pages)
    random.Random(3).shuffle(order)
    measured_pages, rest = order[: len(order) // 3], order[len(order) // 3 :]
    held_pages = rest[-max(1, len(rest) // 5) :]
    pool = [e for p in rest if p not in held_pages for e in pages[p]]
    held = [e for p in held_pages for e in pages[p]]
    measured = [e for p in measured_pages for e in pages[p]]
    return "peraire", pool, held, measured


def measure(recognizer: Recognizer, entries: list[ManifestEntry]) -> dict:
    """CER of a recognizer on the lines, and how its "unsure" flag does on their words."""
    counter, p_right, right = ErrorCounter(), [], []
    for entry, line in zip(entries, recognizer.recognize([e.image for e in entries]), strict=True):
        counter.add(line.text, entry.text)
        p_right += [w.confidence for w in line.words]
        right += word_correctness(line.text, entry.text)
    precision, recall, flagged = flag_quality(p_right, right, PRODUCT_THRESHOLD)
    return {"cer": round(counter.cer, 4), "unsure_precision": round(precision, 3),
            "unsure_recall": round(recall, 3), "unsure_share": round(flagged, 3),
            "words": len(right), "calibrated": recognizer.calibration is not None}


def fine_tune_child(train: Path, measured: Path, out: Path, minutes: float, threads: int) -> dict:
    """Run `ml.finetune` in a child process; its result plus its peak resident memory."""
    code = ("import json, resource, sys; from ml.finetune import main; main(sys.argv[1:]); "
            "print(json.dumps({'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF)"
            ".ru_maxrss / 1024}))")
    command = [sys.executable, "-c", code, "--init", str(DEFAULT_MODEL), "--train", str(train),
               "--val", str(measured), "--out", str(out), "--fonts", str(FONTS),
               "--minutes", str(minutes), "--threads", str(threads), "--no-progress"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"fine-tune failed:\n{done.stderr[-3000:]}")
    result = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            result |= json.loads(line)
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    return result


class PageReader(threading.Thread):
    """Reads one page's worth of lines again and again, as a recognition worker would."""

    def __init__(self, images: list[Path]):
        super().__init__(daemon=True)
        self.recognizer = Recognizer.load(DEFAULT_MODEL)
        self.images, self.seconds, self.stop = images, [], threading.Event()

    def read_once(self) -> float:
        start = time.perf_counter()
        self.recognizer.recognize(self.images)
        return time.perf_counter() - start

    def run(self) -> None:
        while not self.stop.is_set():
            self.seconds.append(self.read_once())


def run(args) -> dict:
    import torch

    torch.set_num_threads(1)  # the recognition side: one worker, NOTES_MODEL_THREADS=1
    WORK.mkdir(parents=True, exist_ok=True)
    writers = [font_writer(max(args.sizes)), peraire_writer()]
    rows, latency = [], None
    for name, pool, held, measured in writers:
        slug = name.replace(":", "-")
        held_path = WORK / f"{slug}-held-out.tsv"
        write_manifest(held_path, held)
        base_reader = Recognizer.load(DEFAULT_MODEL)
        rows.append({"writer": name, "n": 0, "measured_lines": len(measured),
                     **measure(base_reader, measured)})
        print(json.dumps(rows[-1]), file=sys.stderr)
        for n in args.sizes:
            if n > len(pool):
                n = len(pool)
                if any(r["writer"] == name and r["n"] == n for r in rows):
                    continue
            train = WORK / f"{slug}-train-{n}.tsv"
            write_manifest(train, pool[:n])
            reader = None
            if name.startswith("font") and n == 200:
                reader = PageReader([e.image for e in measured[:PAGE_LINES]])
                idle = [reader.read_once() for _ in range(5)]
                reader.start()
            out = WORK / f"{slug}-{n}.pt"
            result = fine_tune_child(train, held_path, out, args.minutes, args.threads)
            if reader is not None:
                reader.stop.set()
                reader.join()
                latency = {"idle_median_s": round(statistics.median(idle), 3),
                           "training_median_s": round(statistics.median(reader.seconds), 3),
                           "reads_during_training": len(reader.seconds)}
                latency["ratio"] = round(latency["training_median_s"]
                                         / latency["idle_median_s"], 2)
            personal = Recognizer.load(out, lm_path=LM)
            own = measure(personal, measured)
            personal.calibration = base_reader.calibration
            borrowed = measure(personal, measured)
            personal.calibration = None
            raw = measure(personal, measured)
            rows.append({"writer": name, "n": n, "measured_lines": len(measured), **own,
                         "with_base_maps": {k: v for k, v in borrowed.items() if "unsure" in k},
                         "raw": {k: v for k, v in raw.items() if "unsure" in k},
                         "held_out_lines": len(held), "held_out_cer": result["cer"],
                         "held_out_base_cer": result["base_cer"],
                         "improved": result["improved"], "steps": result["steps"],
                         "seconds": result["seconds"], "wall_seconds": result["wall_seconds"],
                         "calibration": result.get("calibration"),
                         "peak_rss_mb": round(result["peak_rss_mb"])})
            print(json.dumps(rows[-1]), file=sys.stderr)
    return {"date": date.today().isoformat(), "machine": f"{os.cpu_count()} CPU cores",
            "recipe": {**FineTuneRecipe().__dict__, "minutes": args.minutes,
                       "threads": args.threads},
            "rows": rows, "recognition_during_training": latency}


def markdown(report: dict) -> str:
    lines = [
        "# Personal models: fine-tuning on one writer's corrected lines",
        "",
        f"`python bench/personal_model.py`, {report['date']}, {report['machine']}; recipe "
        f"`{json.dumps(report['recipe'])}`. See the script's docstring for the writers.",
        "",
        "| writer | corrected lines N | measured lines | CER | vs base | kept by the platform "
        "| unsure P / R | with the base's maps | raw | training s | steps | peak memory |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    bases = {r["writer"]: r["cer"] for r in report["rows"] if r["n"] == 0}
    for r in report["rows"]:
        ratio = r["cer"] / bases[r["writer"]] if bases[r["writer"]] else float("nan")
        kept = "–" if r["n"] == 0 else (
            f"{'yes' if r['improved'] else 'no'} ({r['held_out_base_cer']:.3f} → "
            f"{r['held_out_cer']:.3f} on {r['held_out_lines']} held-out lines)")
        borrowed, raw = r.get("with_base_maps"), r.get("raw")
        lines.append(
            f"| {r['writer']} | {r['n']} | {r['measured_lines']} | {r['cer']:.3f} | "
            f"{ratio:.2f}× | {kept} | {_flag(r)} | {_flag(borrowed) if borrowed else '–'} | "
            f"{_flag(raw) if raw else '–'} | "
            f"{r.get('seconds', '–')} | {r.get('steps', '–')} | "
            f"{str(r['peak_rss_mb']) + ' MB' if 'peak_rss_mb' in r else '–'} |")
    latency = report["recognition_during_training"]
    if latency:
        lines += ["", "Recognition meanwhile (a 32-line page, one thread, median seconds): "
                  f"idle {latency['idle_median_s']} s, during the N=200 fine-tune "
                  f"{latency['training_median_s']} s ({latency['ratio']}×, "
                  f"{latency['reads_during_training']} pages read while it trained)."]
    return "\n".join(lines) + "\n"


def _flag(row: dict) -> str:
    return f"{row['unsure_precision']:.0%} / {row['unsure_recall']:.0%}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/personal_model.md")
    args = parser.parse_args(argv)
    report = run(args)
    args.out.write_text(markdown(report))
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
