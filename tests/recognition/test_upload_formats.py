"""Upload checks of the file formats issue 13 is about: AES-encrypted PDFs, PDF pages no
rendering within the pixel limit could read, multi-page TIFFs, images too wide for a JPEG."""

from __future__ import annotations

import io

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from recognition import services
from recognition.exceptions import UploadError
from recognition.models import Note
from tests.conftest import encode

INCH = 72  # points


def blank_pdf(*sizes: tuple[float, float]) -> bytes:
    writer = pypdf.PdfWriter()
    for width, height in sizes:
        writer.add_blank_page(width=width, height=height)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def upload(user, name: str, data: bytes) -> list[Note]:
    return services.note_upload(user=user, files=[SimpleUploadedFile(name, data)])


def refused(user, name: str, data: bytes) -> UploadError:
    with pytest.raises(UploadError) as caught:
        upload(user, name, data)
    assert not Note.objects.exists()
    return caught.value


def test_an_aes_256_encrypted_pdf_is_reported_as_password_protected(user):
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=8.5 * INCH, height=11 * INCH)
    writer.encrypt("secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)

    error = refused(user, "locked.pdf", out.getvalue())

    assert error.problems == [
        "“locked.pdf” is password-protected; upload a PDF without a password."]


def test_a_pdf_sliver_is_refused(user):
    error = refused(user, "sliver.pdf", blank_pdf((8.5 * INCH, 11 * INCH), (1, 14400)))
    assert error.problems == ["Page 2 of “sliver.pdf” is 0.01 × 200.00 inches; a page must be "
                              "at least 0.25 inches on each side."]
    assert error.code == "invalid"


def test_a_pdf_page_too_large_to_read_within_the_pixel_limit_is_refused(user):
    error = refused(user, "mural.pdf", blank_pdf((300 * INCH, 300 * INCH)))
    assert error.problems == ["Page 1 of “mural.pdf” is 300 × 300 inches: within the 80 MP "
                              "limit it could only be read at 30 DPI, and the minimum is 50 DPI."]
    assert error.code == "too_large"


def test_a_multi_page_tiff_counts_its_frames_as_pages(user, page_image):
    frames = [page_image.convert("RGB")] * 3
    data = encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    [note] = upload(user, "scan.tif", data)
    assert (note.kind, note.content_type, note.pages_total) == ("image", "image/tiff", 3)


def test_a_tiff_with_too_many_pages_is_refused(user, settings):
    settings.NOTES_MAX_PDF_PAGES = 2
    frames = [Image.new("L", (50, 50), 255)] * 3
    data = encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    error = refused(user, "scan.tif", data)
    assert error.problems == ["“scan.tif” has more than 2 pages; the limit is 2."]


def test_each_tiff_frame_is_held_to_the_pixel_limit(user, settings):
    settings.NOTES_MAX_IMAGE_PIXELS = 1_000_000
    frames = [Image.new("1", (500, 500), 1), Image.new("1", (2000, 1000), 1)]
    data = encode(frames[0], "TIFF", save_all=True, append_images=frames[1:],
                  compression="group4")
    error = refused(user, "scan.tif", data)
    assert error.problems == ["Page 2 of “scan.tif” is 2000×1000 pixels (2 MP); the limit is "
                              "1 MP."]


def test_an_image_too_wide_for_a_page_jpeg_is_refused(user):
    data = encode(Image.new("1", (70_000, 20), 1), "PNG")
    error = refused(user, "strip.png", data)
    assert error.problems == ["“strip.png” is 70000×20 pixels; the limit is 65500 pixels on "
                              "each side."]
