"""Page preprocessing: from a photo or scan to a flat working image of the sheet.

Steps (stage timings in `bench/results/page_pipeline.md`): EXIF orientation and grayscale
(ml.images); downscale to a working size; find the sheet of paper on a table and undo the
perspective; flatten the lighting by dividing by a blurred background (removes shadows and lamp
gradients, whatever the ink colour). Ruling, skew and texture are left to the line segmenter,
which learned them. Every geometric step is a 3x3 matrix, so `to_original` maps any
working-image point back to the pixel of the original upload. `binarize` (a local threshold)
is for measuring ink, in training targets and evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ml.errors import ImageError
from ml.images import ImageInput, to_grayscale

WORK_LONG_SIDE = 2000  # pixels; a line of notes is still ~40-60 px high at this size
MIN_SIDE = 32
MIN_PAGE_AREA = 0.2  # a detected sheet must cover this share of the photo


@dataclass(frozen=True)
class PreparedPage:
    flat: np.ndarray  # (H, W) uint8, paper 255, ink darker: what the segmenter and crops see
    to_original: np.ndarray  # 3x3 homography, working pixel -> original pixel
    original_size: tuple[int, int]  # (width, height) after EXIF orientation
    sheet_found: bool


def prepare_page(image: ImageInput) -> PreparedPage:
    """Orient, downscale, rectify the sheet and flatten the lighting of one page image."""
    gray = to_grayscale(image)
    height, width = gray.shape
    if min(height, width) < MIN_SIDE:
        raise ImageError(f"Page image is too small ({width}x{height} px)")
    scale = min(1.0, WORK_LONG_SIDE / max(height, width))
    if scale < 1.0:
        gray = cv2.resize(
            gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
        )
    transform = np.diag([scale, scale, 1.0])  # original -> working
    quad = find_sheet(gray)
    if quad is not None:
        warp, size = _rectify(quad)
        gray = cv2.warpPerspective(
            gray, warp, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        transform = warp @ transform
    flat = (flatten_lighting(gray) * 255).astype(np.uint8)
    return PreparedPage(
        flat=flat,
        to_original=np.linalg.inv(transform),
        original_size=(width, height),
        sheet_found=quad is not None,
    )


def find_sheet(gray: np.ndarray) -> np.ndarray | None:
    """Corners (4, 2) of a sheet of paper lying on a darker background, or None.

    None when the paper fills the frame (a scan, a close-up) or no clear quadrilateral stands out.
    """
    small_scale = 500 / max(gray.shape)
    small = cv2.resize(gray, None, fx=small_scale, fy=small_scale, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    _, bright = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(contour) / (small.shape[0] * small.shape[1])
    if not MIN_PAGE_AREA <= area <= 0.97:
        return None
    hull = cv2.convexHull(contour)
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    if len(quad) != 4:
        return None
    # The paper must be clearly brighter than what surrounds it, or it is not a sheet on a table.
    inside = np.zeros_like(small)
    cv2.fillConvexPoly(inside, quad.reshape(4, 2), 1)
    if small[inside == 1].mean() - small[inside == 0].mean() < 40:
        return None
    return _order_corners(quad.reshape(4, 2).astype(np.float32) / small_scale)


def _order_corners(points: np.ndarray) -> np.ndarray:
    """Top-left, top-right, bottom-right, bottom-left."""
    sums, diffs = points.sum(axis=1), np.diff(points, axis=1).ravel()
    return np.float32(
        [
            points[sums.argmin()],
            points[diffs.argmin()],
            points[sums.argmax()],
            points[diffs.argmax()],
        ]
    )


def _rectify(quad: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    tl, tr, br, bl = quad
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    target = np.float32([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]])
    return cv2.getPerspectiveTransform(quad, target), (width, height)


def flatten_lighting(gray: np.ndarray) -> np.ndarray:
    """Divide by the paper's own brightness: shadows and gradients go, ink stays dark.

    The background is a large median filter (computed small, for speed) after a closing that
    erases the ink; the kernel is much wider than a pen stroke but narrower than a shadow edge.
    """
    h, w = gray.shape
    factor = max(1, round(max(h, w) / 400))
    small = cv2.resize(
        gray, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA
    )
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    background = cv2.medianBlur(closed, 21)
    background = cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR)
    flat = gray.astype(np.float32) / np.maximum(background.astype(np.float32), 1.0)
    return np.clip(flat, 0.0, 1.0)


def binarize(flat: np.ndarray) -> np.ndarray:
    """Ink mask of a flattened page: darker than its neighbourhood and clearly below paper."""
    as_uint8 = (flat * 255).astype(np.uint8)
    block = max(15, (min(flat.shape) // 60) | 1)
    local = cv2.adaptiveThreshold(
        as_uint8, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 12
    )
    return (local == 1) & (flat < 0.8)


def remove_ruling(ink: np.ndarray) -> np.ndarray:
    """Drop ruled and squared paper lines and margin rules.

    A long opening finds the stretches of ruling between words; each found stretch is then
    extended along its own row, so the pieces of the same ruling line hidden between letters
    go too (letters lose the few pixel rows where they cross the line, which does not matter
    for segmentation; recognition reads the unbinarized image).
    """
    h, w = ink.shape
    mask = ink.astype(np.uint8)
    ruling = np.zeros_like(mask)
    for length, shape in ((max(20, w // 12), (1, 0)), (max(20, h // 12), (0, 1))):
        kernel = np.ones((1, length) if shape == (1, 0) else (length, 1), np.uint8)
        found = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
        if not found.any():
            continue
        reach = np.ones((1, length * 3) if shape == (1, 0) else (length * 3, 1), np.uint8)
        ruling |= cv2.dilate(found, reach) & mask
    ruling = cv2.dilate(ruling, np.ones((3, 3), np.uint8))
    return ink & (ruling == 0)
