"""Pages as the worker renders them: every PDF page and every TIFF frame within the pixel limit
of uploaded images, stored once, and usable by every later stage (exports)."""

from __future__ import annotations

import io
import math

import pypdf
import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from recognition import services
from recognition.images import JPEG_MAX_SIDE, pdf_page_scale
from recognition.models import Note
from recognition.page_images import note_page_images
from tests.conftest import encode

INCH = 72  # points


def blank_pdf(width: float, height: float, pages: int = 1) -> bytes:
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=width, height=height)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def tiff(frames: list[Image.Image]) -> bytes:
    return encode(frames[0], "TIFF", save_all=True, append_images=frames[1:],
                  compression="tiff_deflate")


@pytest.fixture
def upload_and_run(user, django_capture_on_commit_callbacks):
    """Upload and recognize (the task runs inline under test) with the committed model."""
    def run(upload):
        with django_capture_on_commit_callbacks(execute=True):
            [note] = services.note_upload(user=user, files=[upload])
        return Note.objects.get(pk=note.pk)

    return run


@pytest.mark.parametrize("width,height", [
    (8.5 * INCH, 11 * INCH), (100 * INCH, 100 * INCH), (200 * INCH, 200 * INCH),
    (1, 14400), (14400, 3 * INCH), (0.3, 0.7), (7 * INCH, 10_000 * INCH), (123.4, 98_765.4),
])
def test_pdf_page_scale_keeps_every_render_within_the_limits(settings, width, height):
    scale = pdf_page_scale(width, height)
    # PDFium's bitmap, as pypdfium2 sizes it: each side rounded up.
    pixels_wide, pixels_high = math.ceil(width * scale), math.ceil(height * scale)
    assert pixels_wide * pixels_high <= settings.NOTES_MAX_IMAGE_PIXELS
    assert max(pixels_wide, pixels_high) <= JPEG_MAX_SIDE
    assert 0 < scale <= settings.NOTES_PDF_DPI / INCH


def test_an_ordinary_pdf_page_is_rendered_at_the_configured_dpi(settings):
    assert pdf_page_scale(8.5 * INCH, 11 * INCH) == settings.NOTES_PDF_DPI / INCH
    # A page just within the limit at that DPI is not lowered, one just past it is.
    side = math.sqrt(settings.NOTES_MAX_IMAGE_PIXELS) / settings.NOTES_PDF_DPI * INCH
    assert pdf_page_scale(side * 0.99, side * 0.99) == settings.NOTES_PDF_DPI / INCH
    assert pdf_page_scale(side * 1.01, side * 1.01) < settings.NOTES_PDF_DPI / INCH


def test_a_100_inch_pdf_page_is_accepted_and_rendered_within_the_pixel_limit(user, settings):
    data = blank_pdf(100 * INCH, 100 * INCH)
    assert len(data) < 1000  # what the probe sent: a few hundred bytes, 400 MP at 200 DPI
    [note] = services.note_upload(user=user, files=[SimpleUploadedFile("poster.pdf", data)])
    assert Image.open(note.thumbnail.path).size == (400, 400)

    [(page, image)] = list(note_page_images(note))

    assert image.width * image.height <= settings.NOTES_MAX_IMAGE_PIXELS
    assert image.size == (8944, 8944)  # 89 DPI, down from 200
    assert (page.width, page.height) == image.size
    with Image.open(page.image.path) as stored:
        assert stored.format == "JPEG" and stored.size == image.size


@pytest.mark.slow  # renders and recognizes an 80 MP page
def test_the_pdf_export_of_a_100_inch_page_note_works(alice_client, upload_and_run):
    note = upload_and_run(SimpleUploadedFile("poster.pdf", blank_pdf(100 * INCH, 100 * INCH)))
    assert note.status == Note.Status.DONE, note.error
    assert note.pages.get().width == 8944

    response = alice_client.get(reverse("recognition:note-export", args=[note.pk, "pdf"]))

    assert response.status_code == 200
    exported = pypdf.PdfReader(io.BytesIO(b"".join(response.streaming_content)
                                          if response.streaming else response.content))
    [page] = exported.pages
    # The paper size is the original's, although the image is 89 DPI rather than 200.
    assert float(page.mediabox.width) == pytest.approx(100 * INCH, abs=0.5)
    image = next(iter(page["/Resources"]["/XObject"].values())).get_object()
    assert (image["/Width"], image["/Height"]) == (8944, 8944)


def test_every_frame_of_a_multi_page_tiff_becomes_a_page(upload_and_run, page_image):
    frames = [page_image.convert("RGB"), page_image.convert("L").crop((0, 0, 600, 800)),
              page_image.convert("RGB").rotate(180)]
    width, height = page_image.size
    note = upload_and_run(SimpleUploadedFile("scan.tif", tiff(frames)))

    assert note.status == Note.Status.DONE, note.error
    assert (note.kind, note.pages_total, note.pages_done) == ("image", 3, 3)
    pages = list(note.pages.order_by("number"))
    assert [(p.number, p.width, p.height) for p in pages] == [
        (1, width, height), (2, 600, 800), (3, width, height)]
    assert all(p.recognized and p.lines.count() >= 5 for p in pages)
    with Image.open(pages[1].image.path) as second:
        assert second.format == "JPEG" and second.mode == "L"  # frame 2 itself, not frame 1


def test_a_rerun_reuses_the_stored_tiff_pages(user, page_image):
    frames = [page_image.convert("RGB"), page_image.convert("RGB").rotate(90, expand=True)]
    [note] = services.note_upload(user=user, files=[SimpleUploadedFile("scan.tif",
                                                                       tiff(frames))])
    assert note.pages_total == 2
    first = [(page.pk, page.image.name) for page, _ in note_page_images(note)]
    note.original.storage.delete(note.original.name)  # a re-run must not need it any more

    again = [(page.pk, page.image.name, image.size) for page, image in note_page_images(note)]

    assert [(pk, name) for pk, name, _ in again] == first
    width, height = page_image.size
    assert [size for *_, size in again] == [(width, height), (height, width)]


def test_an_iphone_mpo_keeps_its_first_frame_only(user, page_image):
    depth_map = page_image.convert("RGB").resize((211, 261))
    data = encode(page_image.convert("RGB"), "MPO", save_all=True, append_images=[depth_map])
    assert Image.open(io.BytesIO(data)).n_frames == 2
    [note] = services.note_upload(user=user, files=[SimpleUploadedFile("IMG_0001.jpg", data)])
    assert note.pages_total == 1

    [(page, image)] = list(note_page_images(note))

    assert page.number == 1 and image.size == page_image.size


def test_pillow_opens_every_page_the_pixel_limit_allows(settings):
    """Pillow's own bomb limit follows NOTES_MAX_IMAGE_PIXELS up, never down, so that exports
    and search crops can open every page image we stored."""
    assert Image.MAX_IMAGE_PIXELS >= settings.NOTES_MAX_IMAGE_PIXELS
    before = Image.MAX_IMAGE_PIXELS
    try:
        settings.NOTES_MAX_IMAGE_PIXELS = 300_000_000
        apps.get_app_config("recognition").ready()
        assert Image.MAX_IMAGE_PIXELS == 300_000_000
        settings.NOTES_MAX_IMAGE_PIXELS = 1_000_000
        apps.get_app_config("recognition").ready()
        assert Image.MAX_IMAGE_PIXELS == 300_000_000
    finally:
        Image.MAX_IMAGE_PIXELS = before
