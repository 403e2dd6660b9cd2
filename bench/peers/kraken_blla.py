"""kraken 7.1.1's bundled `blla` baseline segmenter, with our recognizer reading its lines.

kraken runs in its own venv (`.cache/venv-kraken`, made by `make bench-peers`) through
`kraken_segment.py`, one subprocess per batch of pages so its model loads once; its lines are
cached per image (~20 s a page on 2 cores). Our recognizer then reads each line in kraken's
reading order: the polygon's bounding box, cut from the page with its lighting flattened (as our
pipeline cuts its lines), with the pixels outside the polygon set to white paper (the same cut
as the ground-truth lines' in `ml.evaluate_pages`).
"""

from __future__ import annotations

import functools
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.peers import ROOT, cache_path
from ml.evaluate_pages import recognize_polygons
from ml.images import to_grayscale
from ml.page.crops import flat_page
from ml.recognizer import Recognizer

VENV_PYTHON = ROOT / ".cache" / "venv-kraken" / "bin" / "python"
RUNNER = Path(__file__).with_name("kraken_segment.py")
# A line kraken found no polygon for reaches the page's median line height above its baseline
# and a third of it below; this many pixels when no line of the page has a polygon.
FALLBACK_HEIGHT = 40.0


def available() -> bool:
    return VENV_PYTHON.exists()


@functools.cache
def system() -> str:
    """The cache name: kraken's version, from its venv (without importing kraken: slow)."""
    code = "import importlib.metadata as m; print(m.version('kraken'))"
    out = subprocess.run([VENV_PYTHON, "-c", code], capture_output=True, text=True, check=True)
    return f"kraken-{out.stdout.strip()}-blla"


def segment(images: list[Path]) -> dict[Path, dict]:
    """kraken's lines of each image: from the cache, the missing ones segmented in one run."""
    missing = [
        {"image": str(image), "out": str(cache_path(system(), image))}
        for image in dict.fromkeys(images)
        if not cache_path(system(), image).exists()
    ]
    if missing:
        with tempfile.NamedTemporaryFile("w", suffix=".json") as jobs:
            json.dump(missing, jobs)
            jobs.flush()
            subprocess.run([VENV_PYTHON, RUNNER, jobs.name], check=True)  # progress on stderr
    return {image: json.loads(cache_path(system(), image).read_text()) for image in images}


def read(recognizer: Recognizer, image: Path, segmentation: dict) -> dict:
    """Our recognizer on kraken's lines of one page; seconds = kraken's + ours."""
    start = time.perf_counter()
    lines = segmentation["lines"]
    polygons = [_polygon(line, lines) for line in lines]
    texts = recognize_polygons(recognizer, flat_page(to_grayscale(image)), polygons)
    ours = time.perf_counter() - start
    return {
        "lines": [
            {"polygon": polygon.tolist(), "baseline": line["baseline"], "text": text}
            for line, polygon, text in zip(lines, polygons, texts, strict=True)
        ],
        "seconds": segmentation["seconds"] + ours,
        "kraken_seconds": segmentation["seconds"],
        "kraken_cpu_seconds": segmentation["cpu_seconds"],
        "recognize_seconds": ours,
    }


def _polygon(line: dict, lines: list[dict]) -> np.ndarray:
    """The line's polygon, or one built around its baseline when kraken gave none."""
    if len(line["polygon"]) >= 3:
        return np.asarray(line["polygon"], np.float64)
    heights = [np.ptp(np.asarray(o["polygon"])[:, 1]) for o in lines if len(o["polygon"]) >= 3]
    height = float(np.median(heights)) if heights else FALLBACK_HEIGHT
    base = np.asarray(line["baseline"], np.float64).reshape(-1, 2)
    x0, x1 = base[:, 0].min(), base[:, 0].max()
    y0, y1 = base[:, 1].min() - height, base[:, 1].max() + height / 3
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
