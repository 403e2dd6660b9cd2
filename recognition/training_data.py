"""Corrections as training data: every line a person corrected or typed over its region (on
the note page, through the API, in the review panel, or imported as a transcription) is an
example of its owner's handwriting.

The export writes line images and `ml.manifest` files that `ml.train` and `ml.evaluate` read.
Only workers and management commands use this module: it imports the engine.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.utils import timezone
from PIL import Image, ImageOps

from ml.api import polygon_line_images
from ml.manifest import ManifestEntry, write_manifest
from recognition.models import Line, Page

VAL_PERCENT = 10  # pages (not lines) held out for validation: lines of one page look alike


@dataclass(frozen=True)
class TrainingExport:
    train: int
    val: int
    skipped: int  # lines whose region is empty or outside their page image
    users: dict[str, int]


def training_lines(*, user=None) -> QuerySet[Line]:
    """The lines that teach: corrected by a person, with text, and with a region on the page
    (a line typed in without a region has no image to learn from)."""
    lines = (Line.objects.filter(corrected=True).exclude(text="").exclude(polygon=[])
             .select_related("page__note__owner"))
    if user is not None:
        lines = lines.filter(page__note__owner=user)
    return lines.order_by("page__note__owner_id", "page__note_id", "page__number", "order")


def training_data_export(*, out: Path, user=None, val_percent: int = VAL_PERCENT
                         ) -> TrainingExport:
    """Write `out/lines/<user>/<note>-<page>-<line>.png`, `out/train.tsv`, `out/val.tsv` and
    `out/export.json`; a page's lines go to one split, chosen by a hash of the page, so a
    later export puts every page where the earlier one did."""
    out = Path(out)
    entries: dict[str, list[ManifestEntry]] = {"train": [], "val": []}
    users: Counter[str] = Counter()
    skipped = 0
    page_lines: dict[int, list[Line]] = {}
    for line in training_lines(user=user).iterator(chunk_size=500):
        page_lines.setdefault(line.page_id, []).append(line)
    for lines in page_lines.values():
        page = lines[0].page
        owner = page.note.owner.username
        images = polygon_line_images(_page_image(page), [line.polygon for line in lines])
        split = "val" if _bucket(page) < val_percent else "train"
        folder = out / "lines" / owner
        folder.mkdir(parents=True, exist_ok=True)
        for line, image in zip(lines, images, strict=True):
            if image is None:
                skipped += 1
                continue
            path = folder / f"{page.note_id}-{page.number}-{line.pk}.png"
            Image.fromarray(image).save(path)
            entries[split].append(ManifestEntry(path, " ".join(line.text.split())))
            users[owner] += 1
    for split, rows in entries.items():
        write_manifest(out / f"{split}.tsv", rows)
    summary = TrainingExport(train=len(entries["train"]), val=len(entries["val"]),
                             skipped=skipped, users=dict(users))
    (out / "export.json").write_text(json.dumps(
        {"exported": timezone.now().isoformat(), "val_percent": val_percent,
         **summary.__dict__}, indent=2))
    return summary


def _page_image(page: Page) -> Image.Image:
    with default_storage.open(page.image.name, "rb") as f:
        image = Image.open(f)
        image.load()
    return ImageOps.exif_transpose(image)


def _bucket(page: Page) -> int:
    key = f"{page.note.storage_key}/{page.number}".encode()
    return int(hashlib.sha1(key).hexdigest(), 16) % 100
