"""Segment page images with kraken's bundled `blla` baseline model; run with kraken's own venv.

    .cache/venv-kraken/bin/python bench/peers/kraken_segment.py JOBS.json

JOBS.json: [{"image": PATH, "out": PATH}, ...]. For each job, `out` gets
{"lines": [{"polygon": [[x, y], ...], "baseline": [[x, y], ...]}, ...], "seconds": wall,
"cpu_seconds": process CPU, "kraken": VERSION}, lines in kraken's reading order, page pixels.
Each file is written as soon as its page is done, so an interrupted run keeps what it finished.

kraken (lightning, coremltools, ...) is never a dependency of the project: this script imports
nothing from it and is run with `.cache/venv-kraken` (`make bench-peers`) through a subprocess.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

THREADS = 2  # the machine's cores, as for every other system in the benchmark
# Run as a script, this folder comes first on sys.path: its modules must not shadow kraken's
# imports (bench/peers/tesseract.py, ...).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def segment(model, path: Path) -> dict:
    """One page: kraken's lines (boundary polygon and baseline) and the time it took."""
    from kraken import blla
    from PIL import Image

    with Image.open(path) as opened:
        image = opened.convert("RGB")
    wall, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        # blla.segment is "legacy" in 7.x (deprecated for kraken 8) but still the documented call.
        warnings.simplefilter("ignore", DeprecationWarning)
        segmentation = blla.segment(image, model=model)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    lines = [
        {
            # A line whose polygon kraken could not compute keeps only its baseline.
            "polygon": [list(map(float, p)) for p in (line.boundary or [])],
            "baseline": [list(map(float, p)) for p in (line.baseline or [])],
        }
        for line in segmentation.lines
    ]
    return {"lines": lines, "seconds": wall, "cpu_seconds": cpu}


def main(argv: list[str] | None = None) -> int:
    from importlib.metadata import version

    import kraken
    import torch
    from kraken.lib import vgsl

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    torch.set_num_threads(THREADS)
    model_file = Path(kraken.__file__).with_name("blla.mlmodel")
    model = vgsl.TorchVGSLModel.load_model(str(model_file))
    for job in json.loads(Path(argv[0]).read_text()):
        result = segment(model, Path(job["image"]))
        out = Path(job["out"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({**result, "kraken": version("kraken")}))
        lines, seconds = len(result["lines"]), result["seconds"]
        print(f"{job['image']}: {lines} lines, {seconds:.1f} s", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
