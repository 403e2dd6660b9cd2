"""PP-OCRv6 small (det + cls + rec) through `rapidocr` 3.10 and ONNX Runtime (`make bench-peers`).

Its default settings, as a user gets them (text score >= 0.5, long side <= 2000 px). Lines are
its text boxes (a box may hold part of a line when words stand apart) in its own order, top to
bottom; it has no baselines.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

from bench.peers import cached

THREADS = 2


@functools.cache
def _engine():
    """One engine per process: loading the ONNX models is not part of reading a page."""
    import numpy as np
    from rapidocr import RapidOCR

    engine = RapidOCR(
        params={
            "Global.log_level": "warning",
            "EngineConfig.onnxruntime.intra_op_num_threads": THREADS,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
    )
    # ONNX Runtime's first run allocates and plans (~2 s here): not a cost of any one page.
    warm_up = np.full((480, 640, 3), 255, np.uint8)
    warm_up[200:240, 100:500] = 0
    engine(warm_up)
    return engine


def system() -> str:
    """The cache name: rapidocr's version."""
    from importlib.metadata import version

    return f"rapidocr-{version('rapidocr')}"


def available() -> bool:
    try:
        import onnxruntime  # noqa: F401
        import rapidocr  # noqa: F401
    except ImportError:
        return False
    return True


def read(image: Path) -> dict:
    """PP-OCRv6's text boxes of one page image, and the seconds it took."""
    engine = _engine()
    start = time.perf_counter()
    output = engine(str(image))
    seconds = time.perf_counter() - start
    boxes = [] if output.boxes is None else output.boxes.tolist()
    texts = output.txts or ()
    lines = [
        {"polygon": box, "baseline": [], "text": " ".join(text.split())}
        for box, text in zip(boxes, texts, strict=True)
    ]
    return {"lines": lines, "seconds": seconds}


def read_cached(image: Path) -> dict:
    return cached(system(), image, read)
