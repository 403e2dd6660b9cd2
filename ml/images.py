"""Line images in, model-ready arrays out.

Every line, real or synthetic, training or inference, goes through `prepare_line`, so the model
always sees the same thing: grayscale, fixed height, ink bright (1.0) on a dark (0.0) background.
Padding a batch with zeros is then the same as padding with blank paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image, ImageOps

from ml.errors import ImageError

# Lines wider than this (in model pixels) are squeezed horizontally: memory stays bounded and
# a 60-character line at height 40 is about 1,200 px wide, well inside it.
MAX_WIDTH_FACTOR = 60
MIN_WIDTH = 16

ImageInput = str | Path | Image.Image | np.ndarray


def to_grayscale(image: ImageInput) -> np.ndarray:
    """Any path, PIL image or array as a 2-D uint8 array, white paper = 255.

    Handles EXIF orientation, alpha (composited onto white), palette, 16-bit and float images.
    """
    if isinstance(image, (str, Path)):
        try:
            with Image.open(image) as opened:
                opened.load()
                image = ImageOps.exif_transpose(opened)
        except (OSError, ValueError, Image.DecompressionBombError) as err:
            raise ImageError(f"Cannot read image {image}: {err}") from err
    if isinstance(image, Image.Image):
        return _pil_to_gray(image)
    if isinstance(image, np.ndarray):
        return _array_to_gray(image)
    raise ImageError(f"Unsupported image type {type(image).__name__}")


def _pil_to_gray(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return _array_to_gray(np.asarray(image))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return np.asarray(image.convert("L"), dtype=np.uint8)


def _array_to_gray(array: np.ndarray) -> np.ndarray:
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 2, 3, 4)):
        raise ImageError(f"Expected a grayscale, RGB or RGBA image array, got shape {array.shape}")
    if array.dtype == np.uint8 and array.ndim == 2:
        return array
    if array.dtype.kind == "f":
        unit = array.astype(np.float32) / (1.0 if array.max(initial=0) <= 1.0 else 255.0)
    elif array.dtype.kind in "ui":
        top = 65535.0 if array.dtype.itemsize > 1 and array.max(initial=0) > 255 else 255.0
        unit = array.astype(np.float32) / top
    else:
        raise ImageError(f"Unsupported image dtype {array.dtype}")
    if unit.ndim == 3:
        channels = unit.shape[2]
        color = unit[..., :3].mean(axis=2) if channels >= 3 else unit[..., 0]
        if channels in (2, 4):  # composite the alpha channel onto white paper
            alpha = unit[..., -1]
            color = color * alpha + (1.0 - alpha)
        unit = color
    return (np.clip(unit, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def prepare_line(image: ImageInput, height: int) -> np.ndarray:
    """A line image as float32 (height, width) in [0, 1], ink = 1, paper = 0.

    Contrast is stretched between the paper level (80th percentile) and the darkest ink
    (1st percentile), so pale pencil and grey photo backgrounds look like black ink on paper.
    """
    gray = to_grayscale(image)
    h, w = gray.shape
    if h < 2 or w < 2:
        raise ImageError(f"Line image is too small ({w}x{h} px)")
    width = max(MIN_WIDTH, round(w * height / h))
    width = min(width, MAX_WIDTH_FACTOR * height)
    interpolation = cv2.INTER_AREA if h > height else cv2.INTER_LINEAR
    resized = cv2.resize(gray, (width, height), interpolation=interpolation).astype(np.float32)
    paper, ink = np.percentile(resized, [80, 1])
    span = max(paper - ink, 24.0)  # a blank line must stay blank, not become amplified noise
    return np.clip((paper - resized) / span, 0.0, 1.0).astype(np.float32)


def batch_lines(lines: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad prepared lines to one tensor (B, 1, H, W_max) plus their widths (B,)."""
    if not lines:
        raise ValueError("batch_lines needs at least one line")
    height = lines[0].shape[0]
    widths = torch.tensor([line.shape[1] for line in lines], dtype=torch.long)
    batch = torch.zeros(len(lines), 1, height, int(widths.max()))
    for i, line in enumerate(lines):
        batch[i, 0, :, : line.shape[1]] = torch.from_numpy(line)
    return batch, widths
