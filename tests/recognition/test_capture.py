"""Phone capture: several photos become ONE note, turned and cropped as asked, or nothing at all
is saved; the capture page's JSON answers and its plain-form fallback."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from recognition import capture, uploads
from recognition.capture import CapturedPage
from recognition.capture_views import ERROR_WRONG_USER
from recognition.exceptions import UploadError
from recognition.images import pdf_page_scale
from recognition.models import Note, Page, RecognitionJob
from tests.conftest import encode
from tests.factories import CollectionFactory

WIDTH, HEIGHT = 300, 400  # a portrait page


def photo(number: int = 1, *, size=(WIDTH, HEIGHT), fmt="JPEG", name=None) -> SimpleUploadedFile:
    """A page photo: white, a black band along its top edge, `number` marks below it."""
    image = Image.new("RGB", size, "white")
    image.paste((0, 0, 0), (0, 0, size[0], size[1] // 10))
    for i in range(number):
        image.paste((200, 0, 0), (20 + 30 * i, size[1] // 2, 40 + 30 * i, size[1] // 2 + 20))
    extension = {"JPEG": "jpg", "PNG": "png"}.get(fmt, fmt.lower())
    return SimpleUploadedFile(name or f"page-{number}.{extension}", encode(image, fmt),
                              f"image/{extension}")


def stored_files(media_root) -> list[Path]:
    return [p for p in Path(media_root).rglob("*") if p.is_file()]


def assert_nothing_saved(media_root):
    assert Note.objects.count() == 0
    assert RecognitionJob.objects.count() == 0
    assert stored_files(media_root) == []


def pdf_pages(note: Note) -> list[Image.Image]:
    """The note's original PDF, each page rendered as recognition renders it."""
    pdf = pypdfium2.PdfDocument(note.original.path)
    try:
        return [page.render(scale=pdf_page_scale(*page.get_size())).to_pil() for page in pdf]
    finally:
        pdf.close()


def dark_at(image: Image.Image, x: float, y: float) -> bool:
    """Whether the pixel at fractions (x, y) of the image is dark (the black band)."""
    pixel = image.convert("L").getpixel((int(x * (image.width - 1)), int(y * (image.height - 1))))
    return pixel < 80


# The service ------------------------------------------------------------------------------------

def test_note_capture_combines_three_photos_into_one_note_of_three_pages(
        user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the worker runs (NOTES_Q_SYNC)
        note = capture.note_capture(user=user, pages=[CapturedPage(photo(n)) for n in (1, 2, 3)],
                                    title="Lecture 4")
    note.refresh_from_db()
    assert Note.objects.count() == 1
    assert (note.kind, note.title, note.pages_total) == ("pdf", "Lecture 4", 3)
    assert note.status == Note.Status.DONE
    assert list(Page.objects.filter(note=note).values_list("number", flat=True)) == [1, 2, 3]


def test_note_capture_keeps_the_photos_pixel_size_and_order(user):
    note = capture.note_capture(user=user, pages=[CapturedPage(photo(1)),
                                                  CapturedPage(photo(2, size=(500, 350)))])
    sizes = [image.size for image in pdf_pages(note)]
    assert sizes == [(WIDTH, HEIGHT), (500, 350)]


def test_note_capture_turns_a_page_clockwise(user):
    note = capture.note_capture(user=user, pages=[CapturedPage(photo(), rotation=90)])
    [page] = pdf_pages(note)
    assert page.size == (HEIGHT, WIDTH)
    # The band along the photo's top edge is now along the right edge.
    assert dark_at(page, 0.97, 0.5) and not dark_at(page, 0.03, 0.5)
    assert not dark_at(page, 0.5, 0.03)


def test_note_capture_applies_a_crop_of_the_turned_photo(user):
    crop = (0.0, 0.5, 1.0, 0.5)  # the bottom half of the photo turned upside down
    note = capture.note_capture(user=user, pages=[CapturedPage(photo(), rotation=180,
                                                               crop=crop)])
    [page] = pdf_pages(note)
    assert page.size == (WIDTH, HEIGHT // 2)
    assert dark_at(page, 0.5, 0.97)  # the band, now at the bottom


def test_note_capture_follows_the_photos_exif_orientation(user):
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: shown turned 90° clockwise
    upload = SimpleUploadedFile("phone.jpg", encode(image, "JPEG", exif=exif), "image/jpeg")
    note = capture.note_capture(user=user, pages=[CapturedPage(upload)])
    assert pdf_pages(note)[0].size == (HEIGHT, WIDTH)


def test_note_capture_defaults_the_title_to_the_time(user):
    note = capture.note_capture(user=user, pages=[CapturedPage(photo())])
    assert note.title.startswith("Capture 20") and note.original_name.startswith("capture-")


def test_note_capture_accepts_png_and_files_into_the_chosen_collection(user):
    collection = CollectionFactory(owner=user, name="Physics")
    note = capture.note_capture(user=user, pages=[CapturedPage(photo(fmt="PNG"))],
                                collection=collection)
    assert note.collection == collection and note.pages_total == 1


def test_note_capture_refuses_no_pages(user, media_root):
    with pytest.raises(UploadError) as err:
        capture.note_capture(user=user, pages=[])
    assert str(err.value) == capture.ERROR_NO_PAGES
    assert_nothing_saved(media_root)


def test_note_capture_refuses_more_pages_than_one_note_holds(user, media_root, settings):
    settings.NOTES_MAX_FILES_PER_UPLOAD = 3
    with pytest.raises(UploadError) as err:
        capture.note_capture(user=user, pages=[CapturedPage(photo(n)) for n in range(4)])
    assert str(err.value) == capture.ERROR_TOO_MANY_PAGES.format(count=4, limit=3)
    assert err.value.code == "too_large"
    assert_nothing_saved(media_root)


def test_note_capture_refuses_a_page_that_is_not_an_image(user, media_root):
    bad = SimpleUploadedFile("page-2.jpg", b"not a picture at all")
    with pytest.raises(UploadError) as err:
        capture.note_capture(user=user, pages=[CapturedPage(photo()), CapturedPage(bad)])
    assert str(err.value) == uploads.ERROR_UNSUPPORTED.format(name="page-2.jpg")
    assert_nothing_saved(media_root)


def test_note_capture_refuses_a_pdf_page(user, media_root, pdf_upload):
    with pytest.raises(UploadError) as err:
        capture.note_capture(user=user, pages=[CapturedPage(pdf_upload("scan.pdf", pages=1))])
    assert str(err.value) == capture.ERROR_NOT_A_PHOTO.format(page=1, name="scan.pdf")
    assert_nothing_saved(media_root)


def test_note_capture_refuses_a_photo_over_the_size_limit(user, media_root, settings):
    settings.NOTES_MAX_UPLOAD_BYTES = 2000
    big = photo(name="big.png", fmt="PNG", size=(900, 900))
    with pytest.raises(UploadError) as err:
        capture.note_capture(user=user, pages=[CapturedPage(big)])
    assert str(err.value) == uploads.ERROR_TOO_BIG.format(name="big.png", size=big.size / 2**20,
                                                          limit=2000 / 2**20)
    assert_nothing_saved(media_root)


def test_note_capture_refuses_pages_too_big_together(user, media_root, settings):
    photos = [photo(n) for n in (1, 2, 3)]
    # Each photo passes, not all three together.
    settings.NOTES_MAX_UPLOAD_BYTES = max(p.size for p in photos) + 100
    with pytest.raises(UploadError) as err:
        capture.note_capture(user=user, pages=[CapturedPage(p, rotation=90) for p in photos])
    assert str(err.value).startswith("The 3 pages come to ")
    assert err.value.code == "too_large"
    assert_nothing_saved(media_root)


def test_note_capture_refuses_a_photo_over_the_pixel_limit(user, media_root, settings):
    settings.NOTES_MAX_IMAGE_PIXELS = 100_000
    with pytest.raises(UploadError) as err:
        capture.note_capture(user=user, pages=[CapturedPage(photo(size=(400, 300)),
                                                            rotation=90)])
    assert str(err.value) == uploads.ERROR_TOO_MANY_PIXELS.format(
        name="page-1.jpg", width=400, height=300, megapixels=0.12, limit=0.1)
    assert_nothing_saved(media_root)


def test_note_capture_refuses_a_crop_too_small_to_hold_writing(user, media_root):
    with pytest.raises(UploadError) as err:
        capture.note_capture(user=user, pages=[CapturedPage(photo()),
                                               CapturedPage(photo(), crop=(0, 0, 0.1, 0.5))])
    assert str(err.value) == capture.ERROR_PAGE_TOO_SMALL.format(
        page=2, width=30, height=200, minimum=64, cropped=" once cropped")
    assert_nothing_saved(media_root)


def test_note_capture_refuses_another_users_collection(user, other_user, media_root):
    theirs = CollectionFactory(owner=other_user)
    with pytest.raises(PermissionDenied):
        capture.note_capture(user=user, pages=[CapturedPage(photo())], collection=theirs)
    assert_nothing_saved(media_root)


@pytest.mark.parametrize("value,expected", [("", 0), ("90", 90), (" 270 ", 270), (180, 180)])
def test_rotation_parse_reads_quarter_turns(value, expected):
    assert capture.rotation_parse(value, page=1) == expected


@pytest.mark.parametrize("value", ["45", "-90", "360", "right"])
def test_rotation_parse_refuses_other_angles(value):
    with pytest.raises(UploadError) as err:
        capture.rotation_parse(value, page=3)
    assert str(err.value) == capture.ERROR_ROTATION.format(page=3, value=value)


def test_crop_parse_reads_four_fractions():
    assert capture.crop_parse("0.1,0.2,0.5,0.25", page=1) == (0.1, 0.2, 0.5, 0.25)
    assert capture.crop_parse(" ", page=1) is None


@pytest.mark.parametrize("value", ["0.1,0.2,0.5", "a,b,c,d", "0.6,0,0.5,1", "0,0,0,1",
                                   "-0.1,0,1,1", "nan,0,1,1"])
def test_crop_parse_refuses_a_rectangle_outside_the_photo(value):
    with pytest.raises(UploadError) as err:
        capture.crop_parse(value, page=2)
    assert str(err.value) == capture.ERROR_CROP.format(page=2, value=value)


# The capture page -------------------------------------------------------------------------------

def post(client, files, *, json=True, **fields):
    data = {"page": files, **fields}
    headers = {"HTTP_ACCEPT": "application/json"} if json else {}
    return client.post(reverse("recognition:capture"), data, **headers)


def test_capture_page_offers_the_camera_and_one_note_upload(alice_client):
    response = alice_client.get(reverse("recognition:capture"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'capture="environment"' in html and 'accept="image/*"' in html
    assert "Upload as one note" in html and 'role="status"' in html


def test_capture_answers_json_with_the_one_new_note(alice_client, user):
    response = post(alice_client, [photo(1), photo(2)], rotation=["90", "0"], crop=["", ""],
                    title="Board")
    [note] = Note.objects.filter(owner=user)
    assert response.status_code == 201
    assert response.json() == {"notes": [note.pk],
                               "redirect": reverse("recognition:note", args=[note.pk])}
    assert (note.title, note.pages_total) == ("Board", 2)
    assert pdf_pages(note)[0].size == (HEIGHT, WIDTH)


def test_capture_without_javascript_redirects_to_the_note(alice_client, user):
    response = post(alice_client, [photo(1), photo(2)], json=False)
    [note] = Note.objects.filter(owner=user)
    assert response.status_code == 302
    assert response["Location"] == reverse("recognition:note", args=[note.pk])


def test_capture_refusal_answers_json_error_and_saves_nothing(alice_client, media_root):
    bad = SimpleUploadedFile("page-1.jpg", b"text")
    response = post(alice_client, [bad])
    assert response.status_code == 415
    message = uploads.ERROR_UNSUPPORTED.format(name="page-1.jpg")
    assert response.json() == {"error": {"code": "unsupported_type", "message": message,
                                         "fields": {"page": [message]}}}
    assert_nothing_saved(media_root)


def test_capture_refusal_without_javascript_shows_the_form_with_the_error(alice_client,
                                                                          media_root):
    response = post(alice_client, [], json=False)
    assert response.status_code == 400
    assert capture.ERROR_NO_PAGES in response.content.decode()
    assert_nothing_saved(media_root)


def test_capture_refuses_a_bad_rotation_field(alice_client, media_root):
    response = post(alice_client, [photo()], rotation=["45"])
    message = capture.ERROR_ROTATION.format(page=1, value="45")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"page": [message]}
    assert_nothing_saved(media_root)


def test_capture_refuses_rotations_that_do_not_match_the_pages(alice_client, media_root):
    response = post(alice_client, [photo(1), photo(2)], rotation=["90"])
    assert response.json()["error"]["message"] == capture.ERROR_SETTINGS_COUNT.format(
        field="rotation", count=1, pages=2)
    assert_nothing_saved(media_root)


def test_capture_refuses_another_users_collection(alice_client, other_user, media_root):
    theirs = CollectionFactory(owner=other_user, name="Bob's")
    response = post(alice_client, [photo()], collection=theirs.pk)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["collection"]
    assert_nothing_saved(media_root)


def test_capture_queued_by_another_account_waits_for_it(alice_client, other_user, media_root):
    response = post(alice_client, [photo()], owner=other_user.pk)
    assert response.status_code == 409
    assert response.json()["error"] == {"code": "wrong_user", "message": ERROR_WRONG_USER,
                                        "fields": {}}
    assert_nothing_saved(media_root)


def test_capture_page_needs_a_login(client):
    response = client.get(reverse("recognition:capture"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_capture_pdf_holds_the_jpeg_as_it_was_sent(user):
    """A JPEG that needs no turn or crop goes into the PDF without a second compression."""
    upload = photo()
    note = capture.note_capture(user=user, pages=[CapturedPage(upload)])
    assert upload.read() in Path(note.original.path).read_bytes()


def test_capture_pdf_is_one_file_not_one_per_page(user, media_root):
    capture.note_capture(user=user, pages=[CapturedPage(photo(n)) for n in (1, 2)])
    names = sorted(p.name for p in stored_files(media_root))
    assert names == ["original.pdf", "thumbnail.jpg"]


def test_capture_reads_pages_in_the_order_sent(user):
    small, wide = photo(1, size=(200, 300)), photo(2, size=(400, 200))
    note = capture.note_capture(user=user, pages=[CapturedPage(wide), CapturedPage(small)])
    assert [image.size for image in pdf_pages(note)] == [(400, 200), (200, 300)]


def test_captured_pdf_is_a_valid_upload_by_itself(user):
    note = capture.note_capture(user=user, pages=[CapturedPage(photo(n)) for n in (1, 2)])
    data = Path(note.original.path).read_bytes()
    checked = uploads.check_upload(SimpleUploadedFile("again.pdf", data))
    assert (checked.kind, checked.pages) == ("pdf", 2)
    assert io.BytesIO(data).read(5) == b"%PDF-"


# The API: POST /api/v1/notes/capture/ -----------------------------------------------------------

@pytest.fixture
def api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_capture_makes_one_note_of_several_photos(api, user):
    response = api.post(reverse("api:note-capture"),
                        {"page": [photo(1), photo(2), photo(3)], "rotation": ["0", "270", "0"],
                         "title": "Receipts", "tags": "money, home"}, format="multipart")
    [note] = Note.objects.filter(owner=user)
    assert response.status_code == 202
    assert [n["id"] for n in response.json()["notes"]] == [note.pk]
    assert (note.title, note.pages_total) == ("Receipts", 3)
    assert sorted(t.name for t in note.tags.all()) == ["home", "money"]
    assert pdf_pages(note)[1].size == (HEIGHT, WIDTH)


def test_api_capture_refuses_a_bad_crop_with_the_field_named(api, media_root):
    response = api.post(reverse("api:note-capture"), {"page": [photo()], "crop": ["0,0,2,1"]},
                        format="multipart")
    message = capture.ERROR_CROP.format(page=1, value="0,0,2,1")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"page": [message]}
    assert_nothing_saved(media_root)


def test_api_capture_refuses_a_page_that_is_not_an_image(api, media_root):
    response = api.post(reverse("api:note-capture"),
                        {"page": [SimpleUploadedFile("p.jpg", b"words")]}, format="multipart")
    assert response.status_code == 415
    assert response.json()["error"]["message"] == uploads.ERROR_UNSUPPORTED.format(name="p.jpg")
    assert_nothing_saved(media_root)


def test_api_capture_refuses_another_users_collection(api, other_user, media_root):
    theirs = CollectionFactory(owner=other_user)
    response = api.post(reverse("api:note-capture"),
                        {"page": [photo()], "collection": theirs.pk}, format="multipart")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["collection"]
    assert_nothing_saved(media_root)
