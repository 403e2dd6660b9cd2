"""note_upload: what is accepted, and every kind of bad input refused with nothing left."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from recognition import services, uploads
from recognition.exceptions import UploadError
from recognition.models import Note, RecognitionJob
from tests.conftest import encode


def stored_files(media_root) -> list[Path]:
    return [p for p in Path(media_root).rglob("*") if p.is_file()]


def assert_nothing_saved(media_root):
    assert Note.objects.count() == 0
    assert RecognitionJob.objects.count() == 0
    assert stored_files(media_root) == []


def test_note_upload_stores_original_thumbnail_and_queues_a_job(user, jpeg_upload, media_root):
    [note] = services.note_upload(user=user, files=[jpeg_upload("Shopping list.jpg")],
                                  tags=["home", "todo"])
    assert note.owner == user and note.collection.name == "Inbox"
    assert note.title == "Shopping list" and note.kind == "image"
    assert note.status == Note.Status.QUEUED and note.pages_total == 1
    assert sorted(t.name for t in note.tags.all()) == ["home", "todo"]
    assert note.original.name == f"notes/{note.storage_key}/original.jpg"
    assert Image.open(note.thumbnail.path).size[0] <= 400
    assert note.jobs.get().status == RecognitionJob.Status.QUEUED
    assert len(stored_files(media_root)) == 2


def test_pdf_pages_are_counted(user, pdf_upload):
    [note] = services.note_upload(user=user, files=[pdf_upload(pages=3)])
    assert (note.kind, note.pages_total, note.content_type) == ("pdf", 3, "application/pdf")


@pytest.mark.parametrize("fmt,extension", [("PNG", ".png"), ("WEBP", ".webp"),
                                           ("TIFF", ".tif"), ("BMP", ".bmp"),
                                           ("HEIF", ".heic")])
def test_every_supported_image_type_is_accepted(user, page_image, fmt, extension):
    data = encode(page_image.convert("RGB"), fmt)
    [note] = services.note_upload(user=user, files=[SimpleUploadedFile("x.bin", data)])
    assert note.original.name.endswith(extension)


def test_several_files_make_several_notes(user, jpeg_upload, pdf_upload):
    notes = services.note_upload(user=user, files=[jpeg_upload("a.jpg"), pdf_upload("b.pdf")])
    assert [n.title for n in notes] == ["a", "b"]


def test_note_upload_rejects_non_image(user, media_root):
    bad = SimpleUploadedFile("notes.jpg", b"just some text, not a picture")
    with pytest.raises(UploadError, match="“notes.jpg” is not a supported file"):
        services.note_upload(user=user, files=[bad])
    assert_nothing_saved(media_root)


def test_note_upload_rejects_truncated_image(user, page_image, media_root):
    data = encode(page_image.convert("RGB"), "JPEG")
    bad = SimpleUploadedFile("cut.jpg", data[: len(data) // 2])
    with pytest.raises(UploadError, match="“cut.jpg” is damaged or incomplete"):
        services.note_upload(user=user, files=[bad])
    assert_nothing_saved(media_root)


def test_note_upload_rejects_corrupt_png(user, page_image, media_root):
    data = bytearray(encode(page_image, "PNG"))
    data[200:400] = bytes(200)  # scribble over compressed data
    with pytest.raises(UploadError, match="damaged or incomplete"):
        services.note_upload(user=user, files=[SimpleUploadedFile("x.png", bytes(data))])
    assert_nothing_saved(media_root)


def test_note_upload_rejects_decompression_bomb(user, media_root):
    bomb = encode(Image.new("1", (20_000, 20_000)), "PNG")  # ~50 kB, 400 megapixels
    with pytest.raises(UploadError, match="the limit is 80 MP"):
        services.note_upload(user=user, files=[SimpleUploadedFile("bomb.png", bomb)])
    assert_nothing_saved(media_root)


def test_note_upload_rejects_oversized_file(user, jpeg_upload, settings, media_root):
    settings.NOTES_MAX_UPLOAD_BYTES = 10 * 1024
    with pytest.raises(UploadError, match=r"“notes.jpg” is 0\.\d MB; the limit is 0 MB"):
        services.note_upload(user=user, files=[jpeg_upload()])
    assert_nothing_saved(media_root)


def test_note_upload_rejects_unsupported_type(user, page_image, media_root):
    gif = encode(page_image.convert("P"), "GIF")
    with pytest.raises(UploadError, match="Upload JPEG, PNG, WebP, TIFF, BMP, HEIC/HEIF"):
        services.note_upload(user=user, files=[SimpleUploadedFile("anim.gif", gif)])
    assert_nothing_saved(media_root)


def test_note_upload_rejects_encrypted_pdf(user, pdf_upload, media_root):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf_upload().read())).pages:
        writer.add_page(page)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(UploadError, match="“locked.pdf” is password-protected"):
        services.note_upload(user=user, files=[SimpleUploadedFile("locked.pdf", out.getvalue())])
    assert_nothing_saved(media_root)


def test_note_upload_rejects_empty_pdf(user, media_root):
    from pypdf import PdfWriter

    out = io.BytesIO()
    PdfWriter().write(out)  # a valid PDF with no page
    with pytest.raises(UploadError, match="“empty.pdf” has no pages"):
        services.note_upload(user=user, files=[SimpleUploadedFile("empty.pdf", out.getvalue())])
    assert_nothing_saved(media_root)


def test_note_upload_rejects_pdf_with_too_many_pages(user, pdf_upload, settings, media_root):
    settings.NOTES_MAX_PDF_PAGES = 2
    with pytest.raises(UploadError, match="“scan.pdf” has 3 pages; the limit is 2"):
        services.note_upload(user=user, files=[pdf_upload(pages=3)])
    assert_nothing_saved(media_root)


def test_note_upload_rejects_empty_file(user, media_root):
    with pytest.raises(UploadError, match="“void.jpg” is empty"):
        services.note_upload(user=user, files=[SimpleUploadedFile("void.jpg", b"")])
    assert_nothing_saved(media_root)


def test_hostile_file_name_is_neither_used_as_path_nor_shown_raw(user, jpeg_upload, media_root):
    [note] = services.note_upload(user=user, files=[jpeg_upload("../../etc/\x00pa<ss>wd.jpg")])
    assert note.original_name == "pa_ss_wd.jpg"
    assert Path(note.original.path).resolve().is_relative_to(Path(media_root).resolve())
    assert "etc" not in note.original.name


def test_one_bad_file_rejects_the_whole_batch(user, jpeg_upload, media_root):
    bad = SimpleUploadedFile("bad.png", b"nope")
    with pytest.raises(UploadError) as caught:
        services.note_upload(user=user, files=[jpeg_upload(), bad])
    assert caught.value.problems == ["“bad.png” is not a supported file. Upload "
                                     + uploads.ALLOWED_TYPES + "."]
    assert_nothing_saved(media_root)


def test_too_many_files_at_once_are_refused(user, jpeg_upload, settings, media_root):
    settings.NOTES_MAX_FILES_PER_UPLOAD = 2
    with pytest.raises(UploadError, match="3 files at once; the limit is 2"):
        services.note_upload(user=user, files=[jpeg_upload() for _ in range(3)])
    assert_nothing_saved(media_root)


def test_failure_while_saving_removes_the_files_already_stored(user, jpeg_upload, media_root,
                                                               monkeypatch):
    def broken_create(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(RecognitionJob.objects, "create", broken_create)
    with pytest.raises(RuntimeError):
        services.note_upload(user=user, files=[jpeg_upload()])
    assert_nothing_saved(media_root)


def test_upload_into_another_users_collection_is_refused(user, other_user, jpeg_upload):
    from django.core.exceptions import PermissionDenied

    theirs = services.collection_create(user=other_user, name="Private")
    with pytest.raises(PermissionDenied):
        services.note_upload(user=user, files=[jpeg_upload()], collection=theirs)
    assert Note.objects.count() == 0
