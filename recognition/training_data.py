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
from django.utils import timezone
from PIL import Image, ImageOps

from ml.api import polygon_line_images
from ml.manifest import ManifestEntry, write_manifest
from recognition.models import Line, Page
from recognition.personal.services import training_lines

VAL_PERCENT = 10  # pages (not lines) held out for validation: lines of one page look alike


@dataclass(frozen=True)
class TrainingExport:
    train: int
    val: int
    skipped: int  # lines whose region is empty or outside their page image
    users: dict[str, int]


def training_data_export(*, out: Path, user=None, val_percent: int = VAL_PERCENT,
                         held_out_share: float | None = None) -> TrainingExport:
    """Write `out/lines/<user>/<note>-<page>-<line>.png`, `out/train.tsv`, `out/val.tsv` and
    `out/export.json`; a page's lines go to one split, chosen by a hash of the page, so a
    later export puts every page where the earlier one did.

    `held_out_share` (one user's fine-tune) holds out about that share of the lines instead,
    whole pages in the order of their hashes, at least one page; a single page gives every
    fifth line. Small data needs that: with a page hash alone, a user with five corrected
    pages would have no held-out line one time in three.
    """
    out = Path(out)
    entries: dict[str, list[ManifestEntry]] = {"train": [], "val": []}
    users: Counter[str] = Counter()
    skipped = 0
    page_lines: dict[int, list[Line]] = {}
    for line in training_lines(user=user).iterator(chunk_size=500):
        page_lines.setdefault(line.page_id, []).append(line)
    held_out = (_held_out_pages(page_lines, held_out_share) if held_out_share is not None
                else None)  # page ids, "lines" (one page: every fifth line), None (by hash)
    for lines in page_lines.values():
        page = lines[0].page
        owner = page.note.owner.username
        images = polygon_line_images(_page_image(page), [line.polygon for line in lines])
        folder = out / "lines" / owner
        folder.mkdir(parents=True, exist_ok=True)
        for index, (line, image) in enumerate(zip(lines, images, strict=True)):
            if image is None:
                skipped += 1
                continue
            path = folder / f"{page.note_id}-{page.number}-{line.pk}.png"
            Image.fromarray(image).save(path)
            split = _split(page, index, val_percent, held_out)
            entries[split].append(ManifestEntry(path, " ".join(line.text.split())))
            users[owner] += 1
    for split, rows in entries.items():
        write_manifest(out / f"{split}.tsv", rows)
    summary = TrainingExport(train=len(entries["train"]), val=len(entries["val"]),
                             skipped=skipped, users=dict(users))
    (out / "export.json").write_text(json.dumps(
        {"exported": timezone.now().isoformat(), "val_percent": val_percent,
         "held_out_share": held_out_share, **summary.__dict__}, indent=2))
    return summary


def _held_out_pages(page_lines: dict[int, list[Line]], share: float) -> set[int] | str:
    """Pages (ids) holding about `share` of the lines; "lines" when there is a single page."""
    if len(page_lines) < 2:
        return "lines"
    total = sum(len(lines) for lines in page_lines.values())
    chosen, count = set(), 0
    for page_id, lines in sorted(page_lines.items(), key=lambda item: _bucket(item[1][0].page)):
        if chosen and count >= share * total:
            break
        if len(chosen) == len(page_lines) - 1:
            break  # keep a page to train on
        chosen.add(page_id)
        count += len(lines)
    return chosen


def _split(page: Page, index: int, val_percent: int, held_out: set[int] | str | None) -> str:
    if held_out is None:
        held = _bucket(page) < val_percent
    elif held_out == "lines":
        held = index % 5 == 4
    else:
        held = page.pk in held_out
    return "val" if held else "train"
def _page_image(page: Page) -> Image.Image:
    with default_storage.open(page.image.name, "rb") as f:
        image = Image.open(f)
        image.load()
    return ImageOps.exif_transpose(image)


def _bucket(page: Page) -> int:
    key = f"{page.note.storage_key}/{page.number}".encode()
    return int(hashlib.sha1(key).hexdigest(), 16) % 100
