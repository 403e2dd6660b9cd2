"""Tesseract 5 in its automatic page mode (psm 3), through tesserocr, `eng` (tessdata_fast).

Lines are Tesseract's text lines in its reading order: the line's box as polygon, its baseline
(two points) and its text.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

from bench.peers import cached

LANGUAGE = "eng"  # Debian's tesseract-ocr-eng; French pages are read with it too


@functools.cache
def _api():
    """One Tesseract engine per process: loading the model is not part of reading a page."""
    import tesserocr

    return tesserocr.PyTessBaseAPI(path=_tessdata(), lang=LANGUAGE, psm=tesserocr.PSM.AUTO)


def _tessdata() -> str:
    """Debian's tessdata folder (tesserocr's compiled-in default may point elsewhere)."""
    found = sorted(Path("/usr/share/tesseract-ocr").glob("*/tessdata"))
    if not found:
        raise SystemExit("Tesseract data not found: apt install tesseract-ocr tesseract-ocr-eng")
    return str(found[-1]) + "/"


def system() -> str:
    """The cache name: Tesseract's version and language."""
    import tesserocr

    return f"tesseract-{tesserocr.tesseract_version().split()[1]}-{LANGUAGE}"


def read(image: Path) -> dict:
    """Tesseract's lines of one page image, and the seconds it took (image decoding included)."""
    from PIL import Image
    from tesserocr import RIL, iterate_level

    api = _api()
    start = time.perf_counter()
    with Image.open(image) as opened:
        api.SetImage(opened.convert("L"))
    api.Recognize()
    lines = []
    iterator = api.GetIterator()
    for line in iterate_level(iterator, RIL.TEXTLINE) if iterator else ():
        box = line.BoundingBox(RIL.TEXTLINE)
        if box is None:
            continue
        x0, y0, x1, y1 = box
        baseline = line.Baseline(RIL.TEXTLINE)
        lines.append(
            {
                "polygon": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
                "baseline": [list(p) for p in baseline] if baseline else [],
                "text": " ".join((line.GetUTF8Text(RIL.TEXTLINE) or "").split()),
            }
        )
    return {"lines": lines, "seconds": time.perf_counter() - start}


def read_cached(image: Path) -> dict:
    return cached(system(), image, read)
