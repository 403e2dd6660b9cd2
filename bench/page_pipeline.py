"""Page pipeline benchmark: ours against kraken, PP-OCRv6 and Tesseract on the same pages.

    python bench/page_pipeline.py [--systems ours,kraken,ppocr,tesseract]
        [--sets notes,hard,blank,stanford,fr,12mp] [--limit N] [--budget-seconds S]
        [--data .cache/data] [--out bench/results/page_pipeline.md]

Systems, each on every page of a set in the same run:
- ours: `ml.page.read_page` with the committed model and its LM (beam 8), default page budget;
- kraken: kraken 7.1.1's bundled `blla` segmenter (its own venv, `make bench-peers`) with our
  recognizer reading its lines (`bench/peers/kraken_blla.py`);
- ppocr: PP-OCRv6 small detection + recognition (`rapidocr` 3.10, the `bench` extra);
- tesseract: Tesseract 5 in automatic page mode (tesserocr, `eng`).
Peers' readings are cached per image under `.cache/bench/`: a rerun redoes only ours.

Sets: synthetic note pages (held-out fonts, `make data`), synthetic hard pages (letters on
textured paper) and blank pages (`python -m ml.synth pages --layout letter|blank`, rendered
into DATA when missing), the held-out stanford-memorials letters, and the held-out pages-fr
pages (their `source_xml` in the test split of `ml.prepare.fr_split`, so none of their lines
trained the recognizer). Scores: `ml.evaluate_pages` (ink-IoU detection, baselines, page CER,
hallucination on blank pages, seconds per page). `12mp`: a 12-megapixel photo end to end (median
of 5; ours, Tesseract, PP-OCRv6) and the peak resident memory of a fresh process of ours.
Results are merged into OUT's JSON, so a rerun of some sets or systems keeps the others.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench.peers import CACHE, kraken_blla, ppocr, tesseract, to_page_lines  # noqa: E402
from ml.evaluate_pages import (  # noqa: E402
    evaluate_page,
    find_pages,
    page_ink,
    score_page,
    summarize,
)
from ml.groundtruth import read_ground_truth  # noqa: E402
from ml.metrics import ErrorCounter  # noqa: E402
from ml.page.budget import PageBudget  # noqa: E402
from ml.page.pipeline import read_page  # noqa: E402
from ml.prepare import STANFORD_TEST, fr_split  # noqa: E402
from ml.recognizer import Recognizer  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
STANFORD = SHARED / "stanford-memorials"
PAGES_FR = SHARED / "pages-fr"
FR_PAGES = 20  # held-out pages-fr pages at most (kraken: ~20 s each)
SYSTEMS = {
    "ours": "ours (ml.page + CRNN + LM)",
    "kraken": "kraken 7.1.1 blla + our CRNN + LM",
    "ppocr": "PP-OCRv6 small (rapidocr 3.10)",
    "tesseract": "Tesseract 5 page mode (eng)",
}
SETS = ("notes", "hard", "blank", "stanford", "fr", "12mp")


@dataclass(frozen=True)
class PageSet:
    title: str
    source: Path  # a folder of ground-truth pages, or a manifest of them
    render: tuple[str, ...] = ()  # `python -m ml.synth pages` arguments that make it


def page_sets(data: Path) -> dict[str, PageSet]:
    """The benchmark's page sets; synthetic ones say how they are rendered."""
    lists = CACHE / "sets"
    return {
        "notes": PageSet(
            "Synthetic note pages (held-out fonts)",
            data / "synth-pages",
            ("--split", "test", "--count", "30", "--seed", "7", "--layout", "notes"),
        ),
        "hard": PageSet(
            "Synthetic hard pages (letters, textured paper, held-out fonts)",
            data / "synth-hard-pages",
            ("--split", "test", "--count", "20", "--seed", "11", "--layout", "letter"),
        ),
        "blank": PageSet(
            "Synthetic blank pages (paper texture and artefacts, no writing)",
            data / "synth-blank-pages",
            ("--split", "test", "--count", "20", "--seed", "13", "--layout", "blank"),
        ),
        "stanford": PageSet("Stanford 1905 letters, held-out", lists / "stanford-test-pages.txt"),
        "fr": PageSet("pages-fr, held-out (French, modern and WWI)", lists / "fr-test-pages.txt"),
    }


def stanford_manifest(folder: Path, test_only: bool) -> Path:
    """A manifest of the stanford-memorials pages (only the held-out letters if test_only)."""
    rows = [
        str(xml)
        for xml in sorted(STANFORD.glob("*/*/*.xml"))
        if not test_only or f"{xml.parent.parent.name}/{xml.parent.name}" in STANFORD_TEST
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ("stanford-test-pages.txt" if test_only else "stanford-pages.txt")
    path.write_text("\n".join(rows) + "\n")
    return path


def fr_manifest(folder: Path, cap: int = FR_PAGES) -> Path:
    """A manifest of the pages-fr pages whose lines are in htr-lines-fr's test split."""
    rows = []
    for path in sorted(PAGES_FR.glob("*/*.json")):
        meta = json.loads(path.read_text(encoding="utf-8"))
        # The key `ml.prepare.prepare_fr` splits the recognizer's lines by.
        if fr_split(f"{meta['dataset']}/{meta['source_xml']}") == "test":
            rows.append(str(path))
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "fr-test-pages.txt"
    manifest.write_text("\n".join(rows[:cap]) + "\n")
    return manifest


def prepare_set(key: str, page_set: PageSet) -> None:
    """Write the set's manifest, or render its pages if they are missing."""
    folder = CACHE / "sets"
    if key == "stanford":
        stanford_manifest(folder, test_only=True)
    elif key == "fr":
        fr_manifest(folder)
    elif not (page_set.source.is_dir() and any(page_set.source.glob("*.xml"))):
        command = [sys.executable, "-m", "ml.synth", "pages", "--out", str(page_set.source)]
        subprocess.run(command + list(page_set.render), cwd=ROOT, check=True)


def run_ours(recognizer, pages, inks, budget: PageBudget | None) -> dict:
    """Our pipeline on every page: scores, our recognizer on the true lines, stage timings."""
    scores = [evaluate_page(recognizer, p, budget, ink) for p, ink in zip(pages, inks, strict=True)]
    line_errors = ErrorCounter()
    for score in scores:
        line_errors.merge(score.extra["line_errors"])
    stages = [s.extra["timings"] for s in scores]
    return {
        **summarize(scores),
        "gt_lines_cer": round(line_errors.cer, 4) if line_errors.chars else None,
        "budget_seconds": (budget or PageBudget()).seconds,
        "stage_seconds_median": {
            k: round(statistics.median(t[k] for t in stages), 3) for k in stages[0]
        },
    }


def run_kraken(recognizer, pages, inks) -> dict:
    """kraken's lines (segmented once, cached) read by our recognizer, then scored."""
    segmentations = kraken_blla.segment([page.image for page in pages])
    readings = [kraken_blla.read(recognizer, p.image, segmentations[p.image]) for p in pages]
    scores = [
        score_page(page, to_page_lines(reading), seconds=reading["seconds"], ink=ink)
        for page, reading, ink in zip(pages, readings, inks, strict=True)
    ]
    return {
        **summarize(scores),
        "kraken_seconds_median": round(statistics.median(r["kraken_seconds"] for r in readings), 3),
        "kraken_cpu_seconds_median": round(
            statistics.median(r["kraken_cpu_seconds"] for r in readings), 3
        ),
    }


def run_peer(peer, pages, inks) -> dict:
    """A peer that reads whole pages by itself (cached per image), scored."""
    scores = []
    for page, ink in zip(pages, inks, strict=True):
        reading = peer.read_cached(page.image)
        scores.append(score_page(page, to_page_lines(reading), seconds=reading["seconds"], ink=ink))
    return summarize(scores)


def unavailable(system: str) -> str | None:
    """Why a system cannot run here, or None."""
    if system == "kraken" and not kraken_blla.available():
        return f"no {kraken_blla.VENV_PYTHON}: run `make bench-peers`"
    if system == "ppocr" and not ppocr.available():
        return "rapidocr/onnxruntime missing: run `make bench-peers`"
    return None


def evaluate_set(page_set: PageSet, systems, recognizer, limit: int, budget) -> dict:
    """Every system on the same pages of one set; the page ink is found once for all."""
    pages = [read_ground_truth(p) for p in find_pages(page_set.source)[: limit or None]]
    inks = [page_ink(page.image) for page in pages]
    results = {}
    for system in systems:
        reason = unavailable(system)
        if reason:
            print(f"skipped {system}: {reason}", file=sys.stderr)
            continue
        start = time.perf_counter()
        if system == "ours":
            results[system] = run_ours(recognizer, pages, inks, budget)
        elif system == "kraken":
            results[system] = run_kraken(recognizer, pages, inks)
        else:
            results[system] = run_peer(ppocr if system == "ppocr" else tesseract, pages, inks)
        print(f"{page_set.title} / {system}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
        print(json.dumps(results[system]), file=sys.stderr)
    return results


def twelve_megapixels(folder: Path) -> Path:
    """A synthetic notes page photographed at 4000x3000 (12 MP)."""
    import random

    from ml.synth.fonts import load_fonts
    from ml.synth.page import PageStyle, render_page
    from ml.synth.text import TextSampler, Vocabulary

    fonts = [
        f for f in load_fonts(ROOT / ".cache" / "fonts", split="test") if f.style == "handwriting"
    ]
    rng = np.random.default_rng(12)
    style = PageStyle(paper="ruled", rotation=2.0, perspective=0.03, lighting=0.6)
    page = render_page(
        fonts, TextSampler(Vocabulary.from_wordfreq(), random.Random(12)), rng, style
    )
    photo = cv2.resize(page.image, (3000, 4000), interpolation=cv2.INTER_CUBIC)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "12mp.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    return path


def _median_seconds(read, repeats: int = 5) -> float:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        read()
        seconds.append(time.perf_counter() - start)
    return round(statistics.median(seconds), 3)


def peak_memory_mb(path: Path) -> float:
    """VmHWM of a fresh process that loads our model and reads the photo."""
    code = (
        "import torch; torch.set_num_threads(2);"
        "from ml.page.pipeline import read_page; from ml.recognizer import Recognizer;"
        f"read_page(Recognizer.load(), {str(path)!r});"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
        "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return round(int(out.stdout.strip().splitlines()[-1]) / 1024)


def time_12mp(recognizer, systems, budget) -> dict:
    """The 12 MP photo end to end, median of 5 per system (kraken left out: ~25 s a run)."""
    path = twelve_megapixels(CACHE / "sets")
    result = read_page(recognizer, path, budget=budget)
    timings = {"ours": _median_seconds(lambda: read_page(recognizer, path, budget=budget))}
    if "tesseract" in systems:
        timings["tesseract"] = _median_seconds(lambda: tesseract.read(path))
    if "ppocr" in systems and ppocr.available():
        timings["ppocr"] = _median_seconds(lambda: ppocr.read(path))
    return {
        "seconds": timings,
        "ours_lines": len(result.lines),
        "ours_stages": {k: round(v, 3) for k, v in result.timings.items()},
        "ours_partial": result.partial,
        "peak_rss_mb": peak_memory_mb(path),
    }


def _warm_up(recognizer) -> None:
    """One untimed page first, so no set's first page pays for lazy initialisation."""
    page = np.full((900, 700), 235, np.uint8)
    for i in range(4):
        cv2.putText(page, "warm up line", (60, 150 + 90 * i), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 30, 3)
    read_page(recognizer, page)


def _trio(r: dict, prefix: str = "") -> str | None:
    """P / R / F1 of a summary's figures with that prefix; None when F1 is undefined."""
    if r[f"{prefix}f1"] is None:
        return None
    p, rc, f1 = (r[f"{prefix}{k}"] for k in ("precision", "recall", "f1"))
    return f"{p:.2f} / {rc:.2f} / **{f1:.2f}**"


def _cells(r: dict) -> dict[str, str | None]:
    """A system's row of a set's table: header -> cell (None: not measured)."""
    cer, chars = r["page_cer"], r["hallucinated_chars_mean"]
    matched = r.get("matched_lines_cer")  # not in results of runs before it existed
    return {
        "lines found / true": f"{r['predicted_lines']} / {r['true_lines']}",
        "P / R / F1, ink IoU ≥ 0.5": _trio(r),
        "polygon-IoU F1": None if r["polygon_f1"] is None else f"{r['polygon_f1']:.2f}",
        "baseline P / R / F1": _trio(r, "baseline_"),
        "page CER / WER": None if cer is None else f"**{cer:.1%}** / {r['page_wer']:.1%}",
        "CER of matched lines": None if matched is None else f"{matched:.1%}",
        "chars read on blank pages, mean / max": None
        if chars is None
        else f"**{chars:.0f}** / {r['hallucinated_chars_max']}",
        "s/page median / worst": (
            f"{r['seconds_per_page_median']:.2f} / {r['seconds_per_page_worst']:.2f}"
        ),
        "partial pages": str(r["partial_pages"]),
    }


def set_table(entry: dict) -> str:
    """One set's table (a row per system; columns no system has are left out) and notes."""
    rows = {SYSTEMS[k]: _cells(entry["systems"][k]) for k in SYSTEMS if k in entry["systems"]}
    headers = [h for h in next(iter(rows.values())) if any(c[h] for c in rows.values())]
    pages = max(summary["pages"] for summary in entry["systems"].values())
    lines = [f"### {entry['title']}: {pages} pages", "", "| system | " + " | ".join(headers) + " |"]
    lines.append("|---" * (len(headers) + 1) + "|")
    lines += [
        f"| {n} | " + " | ".join(c[h] or "–" for h in headers) + " |" for n, c in rows.items()
    ]
    notes = []
    ours, kraken = entry["systems"].get("ours"), entry["systems"].get("kraken")
    if ours and ours.get("gt_lines_cer") is not None:
        notes.append(
            f"Our recognizer on the true lines (polygon crops): CER {ours['gt_lines_cer']:.1%}."
        )
    if kraken:
        notes.append(
            f"kraken's segmentation alone: {kraken['kraken_seconds_median']:.1f} s a page "
            f"(median; {kraken['kraken_cpu_seconds_median']:.1f} s of CPU)."
        )
    return "\n".join(lines + ([""] + [" ".join(notes)] if notes else []))


def photo_section(photo: dict) -> str:
    names = {"ours": "ours", "tesseract": "Tesseract", "ppocr": "PP-OCRv6"}
    timings = ", ".join(f"{names[k]} {v:.2f} s" for k, v in photo["seconds"].items())
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in photo["ours_stages"].items())
    return f"""## A 12-megapixel photo

A synthetic notes page photographed at 4000x3000 (JPEG), end to end, median of 5 runs:
{timings}. Ours found {photo["ours_lines"]} lines ({stages}; partial: {photo["ours_partial"]}).
Peak resident memory of a fresh process of ours reading it: {photo["peak_rss_mb"]:.0f} MB."""


def render_markdown(results: dict) -> str:
    """The readable report of the merged results."""
    run = results["run"]
    ordered = [results["sets"][key] for key in SETS if key in results["sets"]]
    tables = "\n\n".join(set_table(entry) for entry in ordered)
    photo = photo_section(results["12mp"]) if "12mp" in results else ""
    return f"""# Page pipeline: ours vs kraken blla, PP-OCRv6 and Tesseract 5, same pages, same run

Last run {run["date"]} on {run["machine"]}, Python {run["python"]} ({run["minutes"]} min):
`{run["command"]}` (peers' environment: `make bench-peers`). Each row's date and page limit
are in `page_pipeline.json`; peers' readings are cached per image under `.cache/bench/`, so
their seconds are those of the run that first read the page.

Systems: **ours** (`ml.page.read_page`, committed model + LM, beam 8, default page budget);
**kraken** 7.1.1's bundled `blla` segmenter with our recognizer reading its lines (polygon's box,
outside the polygon white, from the lighting-flattened page); **PP-OCRv6** small det + rec
(`rapidocr` 3.10, default settings); **Tesseract** 5 automatic page mode (`eng`).

How it is scored (`ml.evaluate_pages`): a found line matches a true one when the IoU of the
*ink pixels* they cover is >= 0.5 (one-to-one, best first), so tall eScriptorium polygons and
tight ink boxes are compared fairly; polygon-IoU F1 is the old, convention-bound figure.
Baselines: a simplified ICDAR cBAD (points along baselines within a quarter of the line spacing
of the other side's), where both sides have baselines. Page CER/WER: the whole page's text,
whitespace collapsed, so reading-order mistakes count ("CER of matched lines": line by line over
the matched pairs, recognition alone); pages without any true line (blank paper) are left out
and count the characters invented instead. Regions with untranscribed
text (pages-fr's printed headers) are neither lines nor background: lines found mostly inside
them are dropped first; on pages-fr (partly annotated, says its README) that is whatever no true
line covers. Seconds: wall clock per page on 2 threads (kraken: its segmentation plus our
reading of its lines). Tesseract reads the French pages with `eng` (no `fra` installed).

{tables}

{photo}
"""


def load_results(path: Path) -> dict:
    """Earlier results (to merge with), or a fresh record."""
    if path.exists():
        data = json.loads(path.read_text())
        if "sets" in data:
            return data
    return {"sets": {}}


def measure(args, systems: list[str], sets: list[str], results: dict) -> None:
    """Run the chosen sets and systems, merging their figures into `results`."""
    budget = None if args.budget_seconds is None else PageBudget(seconds=args.budget_seconds)
    recognizer = Recognizer.load()
    if "ours" in systems or "12mp" in sets:
        _warm_up(recognizer)
    today = str(date.today())
    for key, page_set in page_sets(args.data).items():
        if key not in sets:
            continue
        prepare_set(key, page_set)
        measured = evaluate_set(page_set, systems, recognizer, args.limit, budget)
        entry = results["sets"].setdefault(key, {"title": page_set.title, "systems": {}})
        entry["title"] = page_set.title
        for system, summary in measured.items():
            entry["systems"][system] = {**summary, "measured": today, "limit": args.limit}
    if "12mp" in sets:
        results["12mp"] = {**time_12mp(recognizer, systems, budget), "measured": today}


def _cpu() -> str:
    """The processor's model name (machines here vary: see htr-facts.md)."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / ".cache" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "page_pipeline.md")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated")
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated")
    parser.add_argument("--limit", type=int, default=0, help="first N pages of each set only")
    parser.add_argument("--budget-seconds", type=float, default=None, help="our page budget")
    args = parser.parse_args(argv)
    systems, sets = args.systems.split(","), args.sets.split(",")
    unknown = (set(systems) - set(SYSTEMS)) | (set(sets) - set(SETS))
    if unknown:
        parser.error(f"unknown systems or sets: {', '.join(sorted(unknown))}")
    torch.set_num_threads(2)
    results = load_results(args.out.with_suffix(".json"))
    started = time.perf_counter()
    measure(args, systems, sets, results)
    command = " ".join(sys.argv[1:] if argv is None else argv)
    results["run"] = {
        "date": str(date.today()),
        "command": f"python bench/page_pipeline.py {command}".strip(),
        "machine": f"{_cpu()}, {torch.get_num_threads()} threads",
        "python": platform.python_version(),
        "minutes": round((time.perf_counter() - started) / 60, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2))
    args.out.write_text(render_markdown(results))
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
