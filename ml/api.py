"""The engine's public surface for the platform: load a recognizer once, recognize lines.

    recognizer = load_recognizer()            # the committed model, 2-3 s (LM, ONNX export)
    results = recognize_lines(recognizer, [pil_image, "line.png", numpy_array])
    results[0].text, results[0].confidence, results[0].words[0].alternatives

Inputs are paths, PIL images or arrays (grayscale, RGB, RGBA, 16-bit); outputs are frozen
dataclasses, never tensors. Errors are `ml.errors.MLError` subclasses with readable messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ml.ctc import Alternative, Word
from ml.errors import CheckpointError, ImageError, MLError
from ml.images import ImageInput, to_grayscale
from ml.page.budget import PageBudget
from ml.page.crops import flat_page, polygon_crop
from ml.page.pipeline import PageLine, PageResult, SegmentedPage, read_page, segment_page
from ml.recognizer import DEFAULT_MODEL, LM_FILE_NAME, RecognizedLine, Recognizer

__all__ = [
    "DEFAULT_MODEL",
    "LM_FILE_NAME",
    "Alternative",
    "CheckpointError",
    "ImageError",
    "MLError",
    "PageBudget",
    "PageLine",
    "PageResult",
    "RecognizedLine",
    "Recognizer",
    "SegmentedPage",
    "Word",
    "load_recognizer",
    "polygon_line_images",
    "recognize_lines",
    "recognize_page",
    "segment_page",
]


def load_recognizer(
    path: str | Path | None = None,
    *,
    use_lm: bool = True,
    lm_path: str | Path | None = None,
    batch_size: int = 16,
) -> Recognizer:
    """Load a model file (default: the committed `ml/weights/crnn.pt`) and its LM (default:
    the `LM_FILE_NAME` beside the model; a fine-tuned model shares its base's)."""
    return Recognizer.load(
        path or DEFAULT_MODEL, lm_path=lm_path, use_lm=use_lm, batch_size=batch_size
    )


def recognize_lines(
    recognizer: Recognizer,
    images: Sequence[ImageInput],
    *,
    beam_width: int | None = None,
    alternatives: int = 3,
) -> list[RecognizedLine]:
    """Recognize a batch of line images (a page is the batch of its lines), in input order.

    beam_width None decodes with the recognizer's language model when it has one.
    """
    return recognizer.recognize(images, beam_width=beam_width, alternatives=alternatives)


def recognize_page(
    recognizer: Recognizer,
    image: ImageInput,
    *,
    beam_width: int | None = None,
    alternatives: int = 3,
    budget: PageBudget | None = None,
) -> PageResult:
    """Find, order and read the lines of a page photo or scan; polygons are in its pixels.

    The budget (default `PageBudget()`) bounds the time one page may take; a page that runs out
    of it comes back with `partial` set and its remaining lines located but not read.
    """
    return read_page(
        recognizer, image, beam_width=beam_width, alternatives=alternatives, budget=budget
    )


def polygon_line_images(image: ImageInput, polygons: Sequence) -> list[np.ndarray | None]:
    """Line images (uint8, paper 255) cut from a page by their polygons, from the page with
    its lighting flattened as the pipeline reads it; None for an empty polygon. What a person's
    corrected lines become as training examples."""
    page = flat_page(to_grayscale(image))
    return [polygon_crop(page, polygon) if polygon else None for polygon in polygons]
