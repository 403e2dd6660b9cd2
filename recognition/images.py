"""Image conversions shared by uploads, recognition runs, imports and exports."""

from __future__ import annotations

import io

from PIL import Image

# Every stored page image is a JPEG of this quality (recognition re-reads it on later runs).
PAGE_IMAGE_QUALITY = 90


def flattened(image: Image.Image) -> Image.Image:
    """The image as RGB or L, transparent parts laid on white paper (JPEG has no alpha)."""
    if image.mode in ("RGB", "L"):
        return image
    rgba = image.convert("RGBA")
    background = Image.new("RGB", image.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def jpeg_bytes(image: Image.Image, quality: int = PAGE_IMAGE_QUALITY) -> bytes:
    out = io.BytesIO()
    flattened(image).save(out, "JPEG", quality=quality)
    return out.getvalue()
