"""Other systems read the benchmark's pages: kraken blla + our recognizer, PP-OCRv6, Tesseract 5.

Every peer returns the same thing for a page image: its lines in its own reading order, each a
polygon, a baseline (empty when the system has none) and a text, plus the seconds it took. That
reading is cached under `.cache/bench/<system>/<hash of the image file>.json`, so rerunning the
benchmark after a change to our pipeline does not redo the peers (kraken takes ~20 s a page).
The system name carries its version: upgrading a peer invalidates its cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from ml.page.pipeline import PageLine

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "bench"


def file_key(path: Path) -> str:
    """A page image's cache key: the hash of its bytes (a re-rendered page is a new page)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:24]


def cache_path(system: str, image: Path) -> Path:
    return CACHE / system / f"{file_key(image)}.json"


def cached(system: str, image: Path, read: Callable[[Path], dict]) -> dict:
    """`read(image)` once per system and image file; later calls load the stored result."""
    path = cache_path(system, image)
    if path.exists():
        return json.loads(path.read_text())
    result = read(image)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result))
    return result


def to_page_lines(reading: dict) -> list[PageLine]:
    """A cached reading's lines as the pipeline's `PageLine`s, so one scorer serves all."""
    return [
        PageLine(
            polygon=tuple(map(tuple, line["polygon"])),
            baseline=tuple(map(tuple, line.get("baseline") or ())),
            block=0,
            text=line.get("text", ""),
        )
        for line in reading["lines"]
    ]
