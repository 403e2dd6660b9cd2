"""A note's pages as images: the photo, each frame of a multi-page TIFF, or each page of a PDF,
stored as page JPEGs.

Only workers render pages (recognition runs); the first run stores each page image, later runs
read it back. A page is decoded just before it is read, so a long document never sits in
memory whole, and within the pixel limit of uploads (`images.pdf_page_scale` for PDF pages;
TIFF frames were each checked at upload).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pypdfium2
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps

from recognition.exceptions import RecognitionError
from recognition.images import jpeg_bytes, pdf_page_scale
from recognition.models import Note, Page

ERROR_PAGE_UNREADABLE = "Page {number} of the file is damaged and cannot be read."
ERROR_PAGE_NOT_STORED = ("Page {number} could not be stored: the server is out of space or its "
                         "storage is unavailable. Retry later.")

Render = Callable[[], Image.Image] | None  # None: the page image is already stored


def note_page_images(note: Note) -> Iterator[tuple[Page, Image.Image]]:
    """The note's pages with their images, one at a time. A page image is stored as an upright
    JPEG the first time and reused by later runs."""
    existing = {page.number: page for page in note.pages.all()}
    renders = _pdf_pages if note.kind == Note.Kind.PDF else _image_frames
    for number, render in renders(note, existing):
        if number in existing:
            yield existing[number], image_load(existing[number].image.name)
        else:
            image = render()
            yield page_save(note, number, image), image


def image_load(name: str) -> Image.Image:
    """A stored image, decoded."""
    with default_storage.open(name, "rb") as f:
        image = Image.open(f)
        image.load()
    return image


def page_save(note: Note, number: int, image: Image.Image) -> Page:
    """Store `image` as page `number` of the note (a JPEG) and create its Page row.

    The page has no row yet, so a file under its name is what an earlier run left half-written
    (a full disk): it is replaced. A write that fails leaves no file either; the run fails with a
    message the user can act on ("try again later"), not an unexpected error.
    """
    name = f"notes/{note.storage_key}/page-{number:03d}.jpg"
    if default_storage.exists(name):
        default_storage.delete(name)
    try:
        name = default_storage.save(name, ContentFile(jpeg_bytes(image)))
    except OSError as err:
        if default_storage.exists(name):
            default_storage.delete(name)
        raise RecognitionError(ERROR_PAGE_NOT_STORED.format(number=number)) from err
    return Page.objects.create(note=note, number=number, image=name, width=image.width,
                               height=image.height)


def _original(note: Note) -> bytes:
    with default_storage.open(note.original.name, "rb") as f:
        return f.read()


def _image_frames(note: Note, existing: dict[int, Page]) -> Iterator[tuple[int, Render]]:
    """(page number, renderer) for every page of an image note: one, or a TIFF's frames."""
    stored = range(1, max(note.pages_total, 1) + 1)
    if all(number in existing for number in stored):
        # Every page is stored (a re-run): the original is not even opened.
        yield from ((number, None) for number in stored)
        return
    with Image.open(io.BytesIO(_original(note))) as image:
        # Only TIFF frames are pages: an MPO's second frame is a depth map, not a page.
        frames = image.n_frames if image.format == "TIFF" else 1
        if frames != note.pages_total:
            Note.objects.filter(pk=note.pk).update(pages_total=frames)
        for index in range(frames):
            yield index + 1, lambda index=index: _frame(image, index)


def _frame(image: Image.Image, index: int) -> Image.Image:
    try:
        image.seek(index)
        return ImageOps.exif_transpose(image)  # a decoded copy of this frame alone
    except (OSError, ValueError, EOFError, SyntaxError) as err:
        raise RecognitionError(ERROR_PAGE_UNREADABLE.format(number=index + 1)) from err


def _pdf_pages(note: Note, existing: dict[int, Page]) -> Iterator[tuple[int, Render]]:
    pdf = pypdfium2.PdfDocument(_original(note))
    try:
        Note.objects.filter(pk=note.pk).update(pages_total=len(pdf))
        for index in range(len(pdf)):
            yield index + 1, lambda index=index: _pdf_page(pdf, index)
    finally:
        pdf.close()


def _pdf_page(pdf: pypdfium2.PdfDocument, index: int) -> Image.Image:
    page = pdf[index]
    try:
        bitmap = page.render(scale=pdf_page_scale(*page.get_size()))
        image = bitmap.to_pil()
        bitmap.close()
    except (pypdfium2.PdfiumError, ValueError) as err:
        raise RecognitionError(ERROR_PAGE_UNREADABLE.format(number=index + 1)) from err
    finally:
        page.close()
    return image
