"""Line-level peers of `bench/htr_lines.py`: PP-OCRv6's recognizer and Tesseract's line mode.

Each reads a list of line image files and returns one text per line, in order. Both see the
pixels ours sees: `ml.images.to_grayscale` (EXIF orientation applied, alpha on white), then the
layout each expects (BGR for rapidocr, a PIL "L" image for Tesseract). Readings are cached per
line under `.cache/bench/<system>/<hash of the image file>.json`, the system name carrying the
peer's version and settings, so a rerun after a change to our model does not redo the peers.
Timed passes never use the cache.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path

from bench.peers import cache_path

PPOCR_THREADS = 2  # as ours: the benchmark's machine budget is two cores


class PPOCRLines:
    """PP-OCRv6 small recognizer through rapidocr 3.10 (no detection, no orientation classifier).

    Batched the way rapidocr batches crops inside its own pipeline (`RapidOCR.recognize_txt`:
    sorted by aspect ratio, `Rec.rec_batch_num` = 6 by default), after the same per-image
    loading and resizing as `RapidOCR()(img, use_det=False, use_cls=False, use_rec=True)`.
    """

    key = "ppocr"
    title = "PP-OCRv6"

    def unavailable(self) -> str | None:
        """Why it cannot run here, or None."""
        try:
            import onnxruntime  # noqa: F401
            import rapidocr  # noqa: F401
        except ImportError:
            return "rapidocr/onnxruntime missing: run `make bench-peers`"
        return None

    @functools.cached_property
    def engine(self):
        """One engine per process, warmed up: loading the model is not part of reading lines."""
        import numpy as np
        from rapidocr import ModelType, OCRVersion, RapidOCR

        engine = RapidOCR(
            params={
                "Global.log_level": "warning",
                "EngineConfig.onnxruntime.intra_op_num_threads": PPOCR_THREADS,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                # rapidocr 3.10's default, pinned so that an upgrade cannot change it silently.
                "Rec.ocr_version": OCRVersion.PPOCRV6,
                "Rec.model_type": ModelType.SMALL,
            }
        )
        # ONNX Runtime's first run allocates and plans: not a cost of any one line.
        warm_up = np.full((48, 320, 3), 255, np.uint8)
        warm_up[16:32, 20:300] = 0
        engine(warm_up, use_det=False, use_cls=False, use_rec=True)
        return engine

    @functools.cached_property
    def model_file(self) -> str:
        """The recognizer's ONNX file, as ONNX Runtime opened it."""
        session = self.engine.text_rec.session.session
        return str(getattr(session, "_model_path", None) or self.engine.cfg.Rec.model_path)

    def system(self) -> str:
        """The cache name: rapidocr's version, the model file and the batch size."""
        from importlib.metadata import version

        batch = self.engine.cfg.Rec.rec_batch_num
        return f"rapidocr-{version('rapidocr')}-{Path(self.model_file).stem}-b{batch}"

    def describe(self) -> str:
        from importlib.metadata import version

        return (
            f"`rapidocr` {version('rapidocr')} + onnxruntime {version('onnxruntime')}, "
            f"recognizer only, model file `{Path(self.model_file).name}`, "
            f"batches of {self.engine.cfg.Rec.rec_batch_num}, {PPOCR_THREADS} threads"
        )

    def read(self, images: Sequence[Path]) -> list[str]:
        """The texts of line images, loading included, recognized in rapidocr's batches."""
        import cv2

        from ml.images import to_grayscale

        engine = self.engine
        lines = []
        for image in images:
            bgr = cv2.cvtColor(to_grayscale(image), cv2.COLOR_GRAY2BGR)
            resized, _ = engine.preprocess_img(bgr)  # what engine(img) does before recognizing
            lines.append(resized)
        return list(engine.recognize_txt(lines).txts) if lines else []


class TesseractLines:
    """Tesseract 5 through tesserocr, `eng`, one line at a time in single-line mode (--psm 7)."""

    key = "tesseract"
    title = "Tesseract"
    language = "eng"  # Debian's tesseract-ocr-eng; French lines are read with it too

    def unavailable(self) -> str | None:
        try:
            import tesserocr  # noqa: F401
        except ImportError:
            return "tesserocr missing: pip install -e '.[dev]'"
        if not _tessdata():
            return "Tesseract data missing: apt install tesseract-ocr tesseract-ocr-eng"
        return None

    @functools.cached_property
    def api(self):
        """One engine per process: loading the model is not part of reading lines."""
        from tesserocr import PSM, PyTessBaseAPI

        return PyTessBaseAPI(path=_tessdata(), lang=self.language, psm=PSM.SINGLE_LINE)

    def system(self) -> str:
        import tesserocr

        return f"tesseract-{tesserocr.tesseract_version().split()[1]}-{self.language}-psm7"

    def describe(self) -> str:
        import tesserocr

        version = tesserocr.tesseract_version().split()[1]
        return f"Tesseract {version} through `tesserocr`, `{self.language}`, `--psm 7`"

    def read(self, images: Sequence[Path]) -> list[str]:
        """The texts of line images, one at a time, loading included."""
        from PIL import Image

        from ml.images import to_grayscale

        texts = []
        for image in images:
            self.api.SetImage(Image.fromarray(to_grayscale(image)))
            texts.append(self.api.GetUTF8Text().strip())
        return texts


LINE_PEERS = {peer.key: peer for peer in (PPOCRLines(), TesseractLines())}


def _tessdata() -> str | None:
    """Debian's tessdata folder (tesserocr's compiled-in default may point elsewhere)."""
    found = sorted(Path("/usr/share/tesseract-ocr").glob("*/tessdata"))
    return str(found[-1]) + "/" if found else None


def store(system: str, images: Sequence[Path], texts: Sequence[str]) -> None:
    """Cache readings made elsewhere (the timed passes)."""
    for image, text in zip(images, texts, strict=True):
        path = cache_path(system, image)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"text": text}))


def read_cached(peer, images: Sequence[Path]) -> list[str]:
    """A peer's texts of line images: cached ones loaded, the others read in one call and cached."""
    system = peer.system()
    texts: list[str | None] = []
    for image in images:
        path = cache_path(system, image)
        texts.append(json.loads(path.read_text())["text"] if path.exists() else None)
    missing = [i for i, text in enumerate(texts) if text is None]
    if missing:
        read = peer.read([images[i] for i in missing])
        store(system, [images[i] for i in missing], read)
        for i, text in zip(missing, read, strict=True):
            texts[i] = text
    return texts
