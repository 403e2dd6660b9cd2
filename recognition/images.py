"""Image conversions shared by uploads, recognition runs, imports and exports."""

from __future__ import annotations

import io
import math

from django.conf import settings
from PIL import Image

# Every stored page image is a JPEG of this quality (recognition re-reads it on later runs).
PAGE_IMAGE_QUALITY = 90
# libjpeg refuses to write an image wider or taller than this, whatever its pixel count.
JPEG_MAX_SIDE = 65_500
POINTS_PER_INCH = 72  # PDF page sizes are in points


def flattened(image: Image.Image) -> Image.Image:
    """The image as RGB or L, transparent parts laid on white paper (JPEG has no alpha)."""
    if image.mode in ("RGB", "L"):
        return image
    rgba = image.convert("RGBA")
    background = Image.new("RGB", image.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def jpeg_bytes(image: Image.Image, quality: int = PAGE_IMAGE_QUALITY) -> bytes:
    """The image as a JPEG, transparency flattened on white."""
    out = io.BytesIO()
    flattened(image).save(out, "JPEG", quality=quality)
    return out.getvalue()


def pdf_page_scale(width: float, height: float, *, longest: int | None = None) -> float:
    """Pixels per point at which a PDF page of `width` × `height` points is rendered.

    NOTES_PDF_DPI, lowered for a page so large that its bitmap would pass the pixel limit of
    uploaded images (NOTES_MAX_IMAGE_PIXELS) or the side limit of the page JPEG: every render
    of a PDF page (recognition, thumbnails) goes through here, so none decodes more pixels
    than an image we would accept. `longest` caps the long side further (a thumbnail's).
    0 for a page without area.
    """
    if width <= 0 or height <= 0:
        return 0.0
    max_pixels = settings.NOTES_MAX_IMAGE_PIXELS
    # PDFium rounds each side up, so solve (w·s + 1)(h·s + 1) <= max_pixels for s rather than
    # w·h·s² <= max_pixels; the small margin absorbs floating-point error.
    a, b, c = width * height, width + height, 1 - max_pixels
    within_pixels = (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a) * (1 - 1e-9)
    side = min(JPEG_MAX_SIDE, longest or JPEG_MAX_SIDE)
    within_side = side / max(width, height) * (1 - 1e-9)
    return min(settings.NOTES_PDF_DPI / POINTS_PER_INCH, within_pixels, within_side)
