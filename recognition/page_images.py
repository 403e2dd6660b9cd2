"""A note's pages as images: the photo, or a PDF rendered page by page, stored as page JPEGs.

Only workers render pages (recognition runs); the first run stores each page image, later runs
read it back.
"""

from __future__ import annotations

from collections.abc import Iterator

import pypdfium2
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps

from recognition.images import jpeg_bytes
from recognition.models import Note, Page


def note_page_images(note: Note) -> Iterator[tuple[Page, Image.Image]]:
    """The note's pages with their images, one at a time (a PDF page is rendered just before
    it is read, so a long PDF never sits in memory whole). A page image is stored as an upright
    JPEG the first time and reused by later runs."""
    existing = {page.number: page for page in note.pages.all()}
    if note.kind == Note.Kind.IMAGE:
        if 1 in existing:
            yield existing[1], image_load(existing[1].image.name)
        else:
            image = ImageOps.exif_transpose(image_load(note.original.name))
            yield page_save(note, 1, image), image
        return
    with default_storage.open(note.original.name, "rb") as f:
        pdf = pypdfium2.PdfDocument(f.read())
    try:
        Note.objects.filter(pk=note.pk).update(pages_total=len(pdf))
        for number in range(1, len(pdf) + 1):
            if number in existing:
                yield existing[number], image_load(existing[number].image.name)
                continue
            pdf_page = pdf[number - 1]
            bitmap = pdf_page.render(scale=settings.NOTES_PDF_DPI / 72)
            image = bitmap.to_pil()
            bitmap.close()
            pdf_page.close()
            yield page_save(note, number, image), image
    finally:
        pdf.close()


def image_load(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as f:
        image = Image.open(f)
        image.load()
    return image


def page_save(note: Note, number: int, image: Image.Image) -> Page:
    name = default_storage.save(f"notes/{note.storage_key}/page-{number:03d}.jpg",
                                ContentFile(jpeg_bytes(image)))
    return Page.objects.create(note=note, number=number, image=name, width=image.width,
                               height=image.height)
