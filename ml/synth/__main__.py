"""Synthetic handwriting tools.

python -m ml.synth fonts [--dest .cache/fonts]
    fetch the pinned handwriting and print fonts (npm registry) with their licences
python -m ml.synth render --split test --count 1000 --seed 2026 --out .cache/data/synth-test
    render a fixed set of lines (PNG + manifest.tsv) in the fonts of one split
python -m ml.synth pages --split test --count 30 --seed 7 --out DIR [--layout mixed]
    render photographed pages (JPEG + PAGE XML with polygons, baselines and line kinds);
    --layout is mixed (default), notes, letter or blank
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2

from ml.data import EVAL_KINDS, render_eval_set
from ml.manifest import ManifestEntry, write_manifest
from ml.synth.fonts import fetch_fonts, load_fonts
from ml.synth.text import Vocabulary

DEFAULT_FONT_DIR = Path(".cache/fonts")


@dataclass(frozen=True)
class RenderConfig:
    out: Path
    split: str = "test"
    count: int = 1000
    seed: int = 2026
    fonts: Path = DEFAULT_FONT_DIR
    vocabulary: Path | None = None
    max_words: int = 10
    kind: str = "notes"


def render(config: RenderConfig) -> Path:
    """Render the set and write its manifest; returns the manifest path."""
    fonts = load_fonts(config.fonts, split=config.split)
    vocabulary = (
        Vocabulary.load(config.vocabulary) if config.vocabulary else Vocabulary.from_wordfreq()
    )
    config.out.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, (image, text) in enumerate(
        render_eval_set(
            fonts, vocabulary, config.count, config.seed, config.max_words, kind=config.kind
        )
    ):
        path = config.out / f"{i:05d}.png"
        cv2.imwrite(str(path), image)
        entries.append(ManifestEntry(path, text))
    manifest = config.out / "manifest.tsv"
    write_manifest(manifest, entries)
    return manifest


def render_pages(
    out: Path,
    split: str,
    count: int,
    seed: int,
    font_dir: Path,
    vocabulary: Path | None,
    layout: str = "mixed",
) -> Path:
    """Write `count` synthetic page photos with PAGE XML ground truth; returns the folder.

    Each line gets its polygon, baseline and kind ("Handwritten", "Print", "Typewritten",
    "Signature"); a blank page gets an XML without lines. `layout` "mixed" draws notes,
    letters and blank pages in the proportions of `PageStyle.random`.
    """
    from ml.synth.page import iter_pages

    fonts = load_fonts(font_dir, split=split)
    hands = [f for f in fonts if f.style == "handwriting"]
    prints = [f for f in fonts if f.style == "print"]
    vocab = Vocabulary.load(vocabulary) if vocabulary else Vocabulary.from_wordfreq()
    out.mkdir(parents=True, exist_ok=True)
    pages = iter_pages(
        hands, vocab, count, seed, print_fonts=prints, layout=None if layout == "mixed" else layout
    )
    for i, page in enumerate(pages):
        image_path = out / f"page{i:03d}.jpg"
        cv2.imwrite(
            str(image_path),
            cv2.cvtColor(page.image, cv2.COLOR_RGB2BGR),
            [cv2.IMWRITE_JPEG_QUALITY, 92],
        )
        _write_ground_truth(page, image_path, out / f"page{i:03d}.xml")
    return out


def _write_ground_truth(page, image_path: Path, xml_path: Path) -> None:
    from ml.groundtruth import GroundTruthLine, GroundTruthPage, write_page_xml

    lines = tuple(
        GroundTruthLine(
            id=f"l{j}",
            text=line.text,
            bbox=line.bbox,
            polygon=tuple((round(x), round(y)) for x, y in line.polygon),
            baseline=tuple((round(x), round(y)) for x, y in line.baseline),
            kind=line.kind.capitalize(),  # the real data's convention: "Handwritten", ...
            block=f"r{line.block}",
        )
        for j, line in enumerate(page.lines)
    )
    height, width = page.image.shape[:2]
    write_page_xml(GroundTruthPage(xml_path, image_path, width, height, lines), xml_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.synth", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fonts = commands.add_parser("fonts", help="fetch the font catalogue")
    fonts.add_argument("--dest", type=Path, default=DEFAULT_FONT_DIR)
    rendering = commands.add_parser("render", help="render a fixed line set")
    rendering.add_argument("--out", type=Path, required=True)
    rendering.add_argument("--split", choices=("train", "test"), default="test")
    rendering.add_argument("--count", type=int, default=1000)
    rendering.add_argument("--seed", type=int, default=2026)
    rendering.add_argument("--fonts", type=Path, default=DEFAULT_FONT_DIR)
    rendering.add_argument("--vocabulary", type=Path, default=None)
    rendering.add_argument("--max-words", type=int, default=10)
    rendering.add_argument("--kind", choices=EVAL_KINDS, default="notes")
    pages = commands.add_parser("pages", help="render photographed note pages")
    pages.add_argument("--out", type=Path, required=True)
    pages.add_argument("--split", choices=("train", "test"), default="test")
    pages.add_argument("--count", type=int, default=40)
    pages.add_argument("--seed", type=int, default=7)
    pages.add_argument("--fonts", type=Path, default=DEFAULT_FONT_DIR)
    pages.add_argument("--vocabulary", type=Path, default=None)
    pages.add_argument("--layout", choices=("mixed", "notes", "letter", "blank"), default="mixed")
    args = parser.parse_args(argv)
    if args.command == "pages":
        options = (args.out, args.split, args.count, args.seed, args.fonts, args.vocabulary)
        print(render_pages(*options, layout=args.layout))
    elif args.command == "fonts":
        fetched = fetch_fonts(args.dest)
        print(f"{fetched} fonts fetched into {args.dest}", file=sys.stderr)
    else:
        options = {k: v for k, v in vars(args).items() if k != "command"}
        print(render(RenderConfig(**options)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
