"""Build training, validation and test manifests from the shared real-handwriting data.

    python -m ml.prepare --data ../shared/data --out .cache/data

- stanford-memorials (ALTO pages of 1905 letters): lines are cut out of the page photos into
  `OUT/stanford/lines/`, split by letter so no writer's page is in two splits, and each split
  gets a manifest per line type (handwritten, typewritten, print). Signatures are left out.
  Transcription conventions: `^` (superscript marker) is removed; lines with struck-out or
  illegible words (`⟦ ⟧`) are left out, their ink does not match any text.
- htr-lines-fr (French line images): `lines_norm.tsv` of every dataset, split by source page
  (a hash of the page XML path) so lines of one page never straddle splits. The manifests point
  at the shared images; nothing is copied.
The splits are fixed here, in code, so every run and every machine agrees on them.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import sys
from collections import defaultdict
from pathlib import Path

import cv2

from ml.groundtruth import cut_line, read_ground_truth
from ml.manifest import ManifestEntry, write_manifest

# Letters (folders) of stanford-memorials held out of training. Test: about 90 handwritten,
# 60 typewritten and 30 print lines from different writers; validation: a few of each.
STANFORD_TEST = (
    "by_pierrine_maurel/Page10-Lettre75-76",
    "by_yagmur_ozturk/Page2-Lettre242",
    "by_yagmur_ozturk/Page13-Lettre253",
    "by_pierrine_maurel/Page8-Lettre60",
    "by_yagmur_ozturk/Page4-Lettre244",
)
STANFORD_VAL = (
    "by_yagmur_ozturk/Page7-8-Lettres247-248",
    "by_pierrine_maurel/Page3-Lettre46",
)
LINE_KINDS = ("Handwritten", "Typewritten", "Print")
# htr-lines-fr pages (by hash) in each held-out split, out of 100.
FR_TEST_PERCENT = 6
FR_VAL_PERCENT = 2


def stanford_split(letter: str) -> str:
    if letter in STANFORD_TEST:
        return "test"
    if letter in STANFORD_VAL:
        return "val"
    return "train"


def fr_split(source_page: str) -> str:
    bucket = int(hashlib.sha1(source_page.encode()).hexdigest(), 16) % 100
    if bucket < FR_TEST_PERCENT:
        return "test"
    if bucket < FR_TEST_PERCENT + FR_VAL_PERCENT:
        return "val"
    return "train"


def clean_stanford_text(text: str) -> str | None:
    if "⟦" in text or "⟧" in text:
        return None
    return text.replace("^", "")


def prepare_stanford(root: Path, out: Path) -> dict[str, int]:
    """Cut and split stanford-memorials; returns line counts per manifest."""
    lines_dir = out / "stanford" / "lines"
    lines_dir.mkdir(parents=True, exist_ok=True)
    manifests: dict[str, list[ManifestEntry]] = defaultdict(list)
    for xml in sorted(root.glob("*/*/*.xml")):
        letter = f"{xml.parent.parent.name}/{xml.parent.name}"
        split = stanford_split(letter)
        page = read_ground_truth(xml)
        gray = cv2.imread(str(page.image), cv2.IMREAD_GRAYSCALE)
        if gray is None:
            raise SystemExit(f"Cannot read {page.image}")
        for line in page.lines:
            text = clean_stanford_text(line.text)
            if line.kind not in LINE_KINDS or not text:
                continue
            image_path = lines_dir / f"{xml.stem}_{line.id}.png"
            if not image_path.exists():
                cv2.imwrite(str(image_path), cut_line(gray, line))
            entry = ManifestEntry(image_path, text)
            manifests[f"stanford-{split}-{line.kind.lower()}"].append(entry)
            manifests[f"stanford-{split}"].append(entry)
    return {
        name: write_manifest(out / f"{name}.tsv", entries)
        for name, entries in sorted(manifests.items())
    }


def prepare_fr(root: Path, out: Path) -> dict[str, int]:
    """Split htr-lines-fr by source page; returns line counts per manifest."""
    pages = {}
    with gzip.open(root / "lines_meta.tsv.gz", "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            pages[(row["dataset"], row["jpg"])] = f"{row['dataset']}/{row['source_xml']}"
    manifests: dict[str, list[ManifestEntry]] = defaultdict(list)
    for dataset in sorted(p for p in root.iterdir() if (p / "lines_norm.tsv").exists()):
        with open(dataset / "lines_norm.tsv", encoding="utf-8") as f:
            for row in f:
                image, _, text = row.rstrip("\n").partition("\t")
                if not text.strip():
                    continue
                source = pages.get((dataset.name, image), f"{dataset.name}/{image}")
                entry = ManifestEntry((dataset / image).resolve(), text)
                manifests[f"fr-{fr_split(source)}"].append(entry)
    return {
        name: write_manifest(out / f"{name}.tsv", entries)
        for name, entries in sorted(manifests.items())
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path("../shared/data"),
        help="folder holding stanford-memorials/ and htr-lines-fr/",
    )
    parser.add_argument("--out", type=Path, default=Path(".cache/data"))
    args = parser.parse_args(argv)
    counts = prepare_stanford(args.data / "stanford-memorials", args.out)
    counts |= prepare_fr(args.data / "htr-lines-fr", args.out)
    for name, count in counts.items():
        print(f"{name}\t{count}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
