"""Synthetic training pages for the segmenter, stored like the real ones (`ml.page.segdata`).

Rendered with the training fonts only (the benchmark's synthetic pages use the held-out ones),
in the mix of `PageStyle.random`: notes, letters and blank pages on plain, ruled, squared,
linen, laid and recycled paper, with holes, folds, stains, show-through, rulers and colour
charts. The renderer knows every baseline and x-height exactly.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import cv2
import numpy as np

from ml.page.segdata import save_page, store_image
from ml.page.targets import LineTarget, PageTargets
from ml.synth.fonts import load_fonts
from ml.synth.page import SyntheticPage, iter_pages
from ml.synth.text import Vocabulary


def synthetic_targets(page: SyntheticPage) -> PageTargets:
    """The rendered lines' baselines and x-heights, in photo pixels."""
    return PageTargets(
        tuple(
            LineTarget(line.baseline, line.x_height)
            for line in page.lines
            if len(line.baseline) >= 2 and line.x_height > 0
        )
    )


def store_synthetic(page: SyntheticPage) -> tuple[np.ndarray, PageTargets]:
    gray = cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY)
    return store_image(gray, synthetic_targets(page))


CHUNK = 50  # pages rendered from one seed; chunks are rendered in parallel


def prepare_synthetic(
    out: Path,
    count: int,
    val_count: int,
    font_dir: Path,
    seed: int,
    vocabulary: Path | None = None,
    workers: int = 1,
) -> dict:
    """Render `count` training and `val_count` validation pages (skipping stored chunks)."""
    jobs = []
    for split, n, split_seed in (("train", count, seed), ("val", val_count, seed + 1000)):
        for start in range(0, n, CHUNK):
            chunk = (out / f"synth-{split}", start, min(CHUNK, n - start), split_seed + start)
            jobs.append((*chunk, font_dir, vocabulary))
    with multiprocessing.get_context("forkserver").Pool(max(1, workers)) as pool:
        pool.starmap(_render_chunk, jobs)
    return {"train": count, "val": val_count}


def _render_chunk(folder, start, count, seed, font_dir, vocabulary_path) -> None:
    if (folder / f"page{start + count - 1:05d}.json").exists():
        return
    fonts = load_fonts(font_dir, split="train")
    vocabulary = Vocabulary.load(vocabulary_path) if vocabulary_path else Vocabulary.from_wordfreq()
    for i, page in enumerate(iter_pages(fonts, vocabulary, count, seed)):
        image, targets = store_synthetic(page)
        save_page(folder, f"page{start + i:05d}", image, targets)
