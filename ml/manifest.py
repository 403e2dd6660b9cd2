"""Manifests: UTF-8 TSV files of `image_path<TAB>transcription`, one line image per row.

Image paths are relative to the manifest's folder or absolute. Empty rows and rows starting
with `#` are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ml.errors import DataError


@dataclass(frozen=True)
class ManifestEntry:
    image: Path
    text: str


def read_manifest(path: str | Path) -> list[ManifestEntry]:
    """Entries of one manifest, image paths made absolute."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Manifest {path} does not exist")
    base = path.resolve().parent
    entries = []
    with open(path, encoding="utf-8") as f:
        for number, row in enumerate(f, start=1):
            row = row.rstrip("\n").rstrip("\r")
            if not row.strip() or row.startswith("#"):
                continue
            image, sep, text = row.partition("\t")
            if not sep:
                raise DataError(f"{path}:{number}: expected image<TAB>transcription")
            entries.append(ManifestEntry(image=base / image, text=text))
    return entries


def write_manifest(path: str | Path, entries: Iterable[ManifestEntry]) -> int:
    """Write entries with paths relative to the manifest's folder where possible."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = path.resolve().parent
    count = 0
    with open(path, "w", encoding="utf-8") as f:
        for entry in entries:
            if "\t" in entry.text or "\n" in entry.text:
                raise DataError(f"Transcription of {entry.image} contains a tab or newline")
            f.write(f"{_relative(entry.image, base)}\t{entry.text}\n")
            count += 1
    return count


def _relative(image: Path, base: Path) -> str:
    image = image.resolve()
    try:
        return os.path.relpath(image, base) if image.is_relative_to(base) else str(image)
    except ValueError:
        return str(image)
