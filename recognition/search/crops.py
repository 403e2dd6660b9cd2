"""The image of one line, cut from its page: what a search hit shows of the handwriting."""

from __future__ import annotations

import io
import math

from django.core.files.storage import default_storage
from django.http import Http404
from django.shortcuts import get_object_or_404
from PIL import Image

from recognition.models import Line

# Margin around the line's region, as a share of its height (ascenders, descenders).
MARGIN = 0.15
# Wider crops are scaled down: a results page shows them a few hundred pixels wide.
MAX_WIDTH = 1200
QUALITY = 85


def line_crop(*, user, note_pk: int, line_id: int) -> bytes:
    """A JPEG of the line's bounding box on its page image; 404 for another user's line, a
    line without a region (typed in) or a page image that is gone."""
    line = get_object_or_404(Line.objects.select_related("page"), pk=line_id,
                             page__note_id=note_pk, page__note__owner=user)
    if not line.polygon or not line.page.image or not default_storage.exists(line.page.image.name):
        raise Http404
    with default_storage.open(line.page.image.name, "rb") as f, Image.open(f) as page:
        crop = page.crop(_box(line.polygon, page.size)).convert("RGB")
    if crop.width > MAX_WIDTH:
        crop = crop.resize((MAX_WIDTH, max(1, round(crop.height * MAX_WIDTH / crop.width))))
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()


def _box(polygon: list, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The polygon's bounding box with a margin, inside the image."""
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    margin = round(MARGIN * (max(ys) - min(ys)))
    left, top = max(0, int(min(xs)) - margin), max(0, int(min(ys)) - margin)
    right = min(size[0], math.ceil(max(xs)) + margin)
    bottom = min(size[1], math.ceil(max(ys)) + margin)
    if right <= left or bottom <= top:  # a region outside the image (it was replaced)
        raise Http404
    return left, top, right, bottom
