"""The files an export consists of, and the zip archives that carry several.

A whole-document format gives one file per note. A page format (ALTO, PAGE) gives one XML file
per page and the page image it refers to, side by side, as the tools that read these formats
(eScriptorium, Transkribus, our own import) expect; a note in a page format is therefore a zip.
A collection is a zip of its notes' files.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from recognition.exports.document import Document
from recognition.exports.registry import ExportFormat
from recognition.uploads import safe_name

ZIP_TYPE = "application/zip"
# Already compressed: stored as they are rather than deflated again.
_COMPRESSED = ("image/", "application/pdf", "application/vnd.openxmlformats", ZIP_TYPE)


@dataclass(frozen=True)
class ExportFile:
    name: str
    data: bytes
    content_type: str


def file_stem(document: Document) -> str:
    """A file name for the note (no extension) that is safe on every system."""
    return safe_name(document.title).strip(". ") or f"note-{document.id}"


def document_files(fmt: ExportFormat, document: Document, stem: str) -> Iterator[ExportFile]:
    """The files of one note in `fmt`, named after `stem`."""
    if not fmt.per_page:
        yield ExportFile(stem + fmt.extension, fmt.write(document), fmt.content_type)
        return
    for page in document.pages:
        base = f"{stem}-page-{page.number:03d}"
        yield ExportFile(base + fmt.extension, fmt.write_page(document, page, base + ".jpg"),
                         fmt.content_type)
        if page.image is not None:
            yield ExportFile(base + ".jpg", page.image, "image/jpeg")


def note_export(fmt: ExportFormat, document: Document) -> ExportFile:
    """A note's export: its one file, or a zip of its page files and images."""
    stem = file_stem(document)
    files = list(document_files(fmt, document, stem))
    if not fmt.per_page:
        return files[0]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for export in files:
            _add(archive, export, document.updated)
    return ExportFile(f"{stem}-{fmt.name}.zip", buffer.getvalue(), ZIP_TYPE)


def collection_export(fmt: ExportFormat, documents: Iterable[Document], out: BinaryIO) -> int:
    """Write a zip of every note's files to `out`; returns how many notes went in.

    `documents` may be a generator: one note (with its images) is in memory at a time.
    """
    used: set[str] = set()
    count = 0
    with zipfile.ZipFile(out, "w") as archive:
        for document in documents:
            stem = unique_stem(file_stem(document), document.id, used)
            used.add(stem.casefold())
            for export in document_files(fmt, document, stem):
                _add(archive, export, document.updated)
            count += 1
    return count


def unique_stem(stem: str, note_id: int, used: set[str]) -> str:
    """`stem`, or when a note before took it (case aside: Windows and macOS would overwrite
    one file with the other), "stem (id)"; when even that is taken (a note titled
    "Letter (12)" beside note 12 titled "Letter"), "stem (id-2)", "stem (id-3)"..."""
    if stem.casefold() not in used:
        return stem
    candidate, n = f"{stem} ({note_id})", 1
    while candidate.casefold() in used:
        n += 1
        candidate = f"{stem} ({note_id}-{n})"
    return candidate


def _add(archive: zipfile.ZipFile, export: ExportFile, when: dt.datetime | None) -> None:
    # The note's last change as the entry's date: the same note gives the same archive.
    stamp = when.astimezone(dt.UTC).timetuple()[:6] if when else (1980, 1, 1, 0, 0, 0)
    info = zipfile.ZipInfo(export.name, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
    stored = export.content_type.startswith(_COMPRESSED)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    archive.writestr(info, export.data)

