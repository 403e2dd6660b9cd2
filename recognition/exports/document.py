"""A note as the export writers see it: plain frozen data, read once from the database.

Writers are pure functions of a `Document`, so they never touch the ORM or the storage and can
be tested (and benchmarked) on data made by hand. Page images are read only for the formats
that embed or reference them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import pypdfium2
from django.conf import settings
from django.core.files.storage import default_storage

from recognition.models import Line, Note, Page, document_text

logger = logging.getLogger(__name__)

Point = tuple[float, float]


@dataclass(frozen=True)
class DocumentLine:
    id: int
    order: int  # reading order within the page
    block: int
    text: str
    polygon: tuple[Point, ...] = ()  # page image pixels; () for a line a person typed in
    baseline: tuple[Point, ...] = ()
    machine_text: str = ""
    confidence: float = 0.0
    corrected: bool = False
    # Per word: {"text", "confidence", "alternatives": [{"text", "probability"}]}, as read by
    # the recognizer (they may no longer match `text` once a person corrected the line).
    words: tuple[Mapping, ...] = ()

    @property
    def words_match_text(self) -> bool:
        """Whether the machine's words still spell the line (not so after a correction)."""
        return bool(self.words) and " ".join(w["text"] for w in self.words) == self.text


@dataclass(frozen=True)
class DocumentPage:
    number: int  # 1-based
    width: int  # pixels of the page image; line coordinates are in this space
    height: int
    lines: tuple[DocumentLine, ...] = ()
    image: bytes | None = None  # the page image (JPEG), when the format needs it
    # Pixels per inch when the page came from a PDF (its paper size is then known); None for
    # photos, which have no meaningful resolution.
    dpi: float | None = None

    @property
    def image_name(self) -> str:
        return f"page-{self.number:03d}.jpg"


@dataclass(frozen=True)
class Document:
    id: int
    title: str
    collection: str = ""
    note_date: dt.date | None = None
    tags: tuple[str, ...] = ()
    original_name: str = ""
    kind: str = Note.Kind.IMAGE
    status: str = Note.Status.DONE
    revision: int = 0
    created: dt.datetime | None = None
    updated: dt.datetime | None = None
    pages: tuple[DocumentPage, ...] = ()

    @property
    def text(self) -> str:
        """The document text, exactly as the note shows it (`models.document_text`)."""
        return document_text([{"page": page.number, "text": line.text}
                              for page in self.pages for line in page.lines])


def note_document(note: Note, *, images: bool = False) -> Document:
    """Snapshot a note, its pages and lines (and the page images when `images`).

    Lines without text (located but not read, or emptied by hand) are left out: every format
    would carry them as empty lines, strings or text lines, with nothing to read in them.
    """
    lines_by_page: dict[int, list[DocumentLine]] = {}
    lines = Line.objects.filter(page__note=note).exclude(text="")
    for line in lines.order_by("page__number", "order"):
        lines_by_page.setdefault(line.page_id, []).append(_line(line))
    stored = list(note.pages.order_by("number"))
    dpis = _pdf_dpis(note, stored) if note.kind == Note.Kind.PDF and images else {}
    dpi = settings.NOTES_PDF_DPI if note.kind == Note.Kind.PDF else None
    pages = tuple(
        DocumentPage(number=page.number, width=page.width, height=page.height,
                     lines=tuple(lines_by_page.get(page.pk, ())),
                     dpi=dpis.get(page.number, dpi),
                     image=_read(page.image.name) if images else None)
        for page in stored
    )
    return Document(
        id=note.pk, title=note.title, collection=note.collection.name, note_date=note.note_date,
        tags=tuple(note.tags.values_list("name", flat=True)), original_name=note.original_name,
        kind=note.kind, status=note.status, revision=note.revision, created=note.created,
        updated=note.updated, pages=pages,
    )


def _pdf_dpis(note: Note, pages: list[Page]) -> dict[int, float]:
    """Each page image's pixels per inch, from the paper size of its page in the original PDF.

    Not simply NOTES_PDF_DPI: a page too large for the pixel limit was rendered coarser
    (`images.pdf_page_scale`), and the setting may have changed since. Read only for the
    formats that place the page images; {} when the original cannot be read.
    """
    name = note.original.name
    if not name or not default_storage.exists(name):
        return {}
    with default_storage.open(name, "rb") as f:
        data = f.read()
    dpis = {}
    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        return dpis
    try:
        for page in pages:
            if page.number <= len(pdf):
                width = pdf.get_page_size(page.number - 1)[0]
                if width > 0:
                    dpis[page.number] = page.width * 72 / width
    except pypdfium2.PdfiumError:
        pass  # the pages read so far have theirs, the others NOTES_PDF_DPI
    finally:
        pdf.close()
    return dpis


def _line(line: Line) -> DocumentLine:
    return DocumentLine(
        id=line.pk, order=line.order, block=line.block, text=line.text,
        polygon=tuple((float(x), float(y)) for x, y in line.polygon or ()),
        baseline=tuple((float(x), float(y)) for x, y in line.baseline or ()),
        machine_text=line.machine_text, confidence=line.confidence, corrected=line.corrected,
        words=tuple(line.words or ()),
    )


def _read(name: str) -> bytes | None:
    # A page whose image went missing from the storage is still exported (its text layer, its
    # XML); the writers say what they do without an image.
    if not name or not default_storage.exists(name):
        logger.warning("Page image %s is missing from the storage", name)
        return None
    with default_storage.open(name, "rb") as f:
        return f.read()
