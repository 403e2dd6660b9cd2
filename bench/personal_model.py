"""Personal models: how much a fine-tune on N corrected lines of one writer helps, how long it
takes on this CPU, how much memory it needs, and how recognition fares meanwhile.

    python bench/personal_model.py [--sizes 50 200 500] [--minutes 10] [--threads 1]
        [--out bench/results/personal_model.md]

Writers (a person who corrects N lines, then reads unseen lines of theirs):
- `font:<name>`: a handwriting font of the test split (never in the base model's training),
  the one the base model reads worst of them; lines of notes text rendered with the training
  augmentation (paper, ink, blur, photo noise), N from a pool, measured on 200 other lines.
- `peraire`: one person's diaries (`../shared/data/htr-lines-fr/peraire`), pages that are not
  in the base model's training split (the writer is: other pages of the same diaries trained
  it, so this is a writer the model has seen, on unseen pages); pages split into a pool and
  a measuring third.
Each fine-tune runs as the platform runs it (`ml.finetune`, the default recipe, replaying
rendered lines in the training fonts, `--threads` torch threads) in a child process whose
peak resident memory is reported. N = 0 is the base model. CER: corpus-level, as the platform
decodes (beam search with the LM). While the N=200 fine-tune of the font writer runs, this
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

from ml.finetune import FineTuneRecipe, held_out_cer  # noqa: E402
from ml.manifest import ManifestEntry, write_manifest  # noqa: E402
from ml.prepare import fr_split  # noqa: E402
from ml.recognizer import DEFAULT_MODEL, LM_FILE_NAME, Recognizer  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
WORK = ROOT / ".cache" / "bench" / "personal"
FONTS = ROOT / ".cache" / "fonts"
LM = DEFAULT_MODEL.with_name(LM_FILE_NAME)
PAGE_LINES = 32


def font_writer(pool: int, measured: int) -> tuple[str, list[ManifestEntry], list[ManifestEntry]]:
    """The test-split handwriting font the base model reads worst: (name, pool, measured)."""
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
    lines = render_eval_set([worst], vocabulary, pool + measured, seed=2029)
    entries = _save(lines, folder)
    return f"font:{worst.name}", entries[:pool], entries[pool:]


def _save(lines, folder: Path) -> list[ManifestEntry]:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, (image, text) in enumerate(lines):
        path = folder / f"{i:04d}.png"
        cv2.imwrite(str(path), image)
        entries.append(ManifestEntry(path, text))
    return entries


def peraire_writer() -> tuple[str, list[ManifestEntry], list[ManifestEntry]]:
    """Lines of peraire pages outside the training split: (name, pool, measured), whole
    pages on each side, a third of the pages measured."""
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
    measured_pages = order[: len(order) // 3]
    pool = [e for p in order if p not in measured_pages for e in pages[p]]
    measured = [e for p in measured_pages for e in pages[p]]
    return "peraire", pool, measured


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
    writers = [font_writer(max(args.sizes), 200), peraire_writer()]
    rows, latency = [], None
    for name, pool, measured in writers:
        slug = name.replace(":", "-")
        measured_path = WORK / f"{slug}-measured.tsv"
        write_manifest(measured_path, measured)
        base = held_out_cer(DEFAULT_MODEL, measured, lm_path=LM)
        rows.append({"writer": name, "n": 0, "measured_lines": len(measured), "cer": base})
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
            result = fine_tune_child(train, measured_path, WORK / f"{slug}-{n}.pt",
                                     args.minutes, args.threads)
            if reader is not None:
                reader.stop.set()
                reader.join()
                latency = {"idle_median_s": round(statistics.median(idle), 3),
                           "training_median_s": round(statistics.median(reader.seconds), 3),
                           "reads_during_training": len(reader.seconds)}
                latency["ratio"] = round(latency["training_median_s"]
                                         / latency["idle_median_s"], 2)
            rows.append({"writer": name, "n": n, "measured_lines": len(measured),
                         "cer": result["cer"], "base_cer": result["base_cer"],
                         "improved": result["improved"], "steps": result["steps"],
                         "seconds": result["seconds"], "wall_seconds": result["wall_seconds"],
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
        "| writer | corrected lines N | measured lines | CER | vs base | training s | steps | "
        "peak memory |",
        "|---|---|---|---|---|---|---|---|",
    ]
    bases = {r["writer"]: r["cer"] for r in report["rows"] if r["n"] == 0}
    for r in report["rows"]:
        ratio = r["cer"] / bases[r["writer"]] if bases[r["writer"]] else float("nan")
        lines.append(
            f"| {r['writer']} | {r['n']} | {r['measured_lines']} | {r['cer']:.3f} | "
            f"{ratio:.2f}× | {r.get('seconds', '–')} | {r.get('steps', '–')} | "
            f"{str(r['peak_rss_mb']) + ' MB' if 'peak_rss_mb' in r else '–'} |")
    latency = report["recognition_during_training"]
    if latency:
        lines += ["", "Recognition meanwhile (a 32-line page, one thread, median seconds): "
                  f"idle {latency['idle_median_s']} s, during the N=200 fine-tune "
                  f"{latency['training_median_s']} s ({latency['ratio']}×, "
                  f"{latency['reads_during_training']} pages read while it trained)."]
    return "\n".join(lines) + "\n"


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
