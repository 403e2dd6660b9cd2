"""The capture page on an emulated phone: photograph pages one after the other, turn one, upload
them as ONE note; without network the note waits on the phone and uploads when it is back."""

from __future__ import annotations

import pytest
from django.urls import reverse
from PIL import Image

from recognition.models import Note
from tests.browser.conftest import ConsoleErrors, sign_in
from tests.conftest import encode

pytestmark = pytest.mark.slow  # a browser, and pages recognized on the CPU

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect

# A phone (Pixel 7's screen) held upright: touch, mobile viewport.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2.625,
         "is_mobile": True, "has_touch": True,
         "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 "
                       "(KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36"}
RECOGNITION_MS = 120_000
WIDTH, HEIGHT = 300, 400


def shot(number: int) -> dict:
    """A photo of a page as the camera gives it: a black band along its top edge."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    image.paste((0, 0, 0), (0, 0, WIDTH, HEIGHT // 10))
    image.paste((200, 0, 0), (20 * number, 200, 20 * number + 15, 215))
    return {"name": f"IMG_{number}.jpg", "mimeType": "image/jpeg",
            "buffer": encode(image, "JPEG", quality=90)}


@pytest.fixture
def phone(chromium, live_server, client, transactional_db, user):
    """A page on an emulated phone, signed in as alice; console errors fail the test."""
    client.force_login(user)
    context = chromium.new_context(**PHONE, service_workers="allow")
    sign_in(context, live_server.url, client)
    page, errors = context.new_page(), ConsoleErrors()
    errors.watch(page)
    page.errors = errors
    page.goto(live_server.url + reverse("recognition:capture"))
    yield page
    context.close()
    assert errors.found == []


def take_photos(page, count: int) -> None:
    """One photo after the other, as the camera button gives them."""
    camera = page.locator("[data-camera]")
    for number in range(1, count + 1):
        camera.set_input_files([shot(number)])
        expect(page.locator("[data-pages] li")).to_have_count(number)


def test_pages_captured_one_by_one_upload_as_one_note(phone, user):
    page = phone
    expect(page.locator("[data-fallback]")).to_be_hidden()
    take_photos(page, 3)
    page.get_by_role("button", name="Rotate page 2").click()
    expect(page.get_by_role("status")).to_have_text("Page 2 turned to 90°.")
    expect(page.locator('[data-page="2"] canvas')).to_have_attribute("data-rotation", "90")
    page.get_by_label("Title (optional)").fill("Whiteboard")
    with page.expect_navigation(timeout=RECOGNITION_MS):
        page.get_by_role("button", name="Upload as one note").click()
    [note] = Note.objects.filter(owner=user)
    assert page.url.endswith(reverse("recognition:note", args=[note.pk]))
    assert (note.title, note.pages_total, note.status) == ("Whiteboard", 3, "done")
    sizes = [(p.width, p.height) for p in note.pages.order_by("number")]
    assert sizes == [(WIDTH, HEIGHT), (HEIGHT, WIDTH), (WIDTH, HEIGHT)]


def test_pages_can_be_reordered_retaken_and_deleted(phone, user):
    page = phone
    take_photos(page, 3)
    page.get_by_role("button", name="Delete page 1").click()
    expect(page.locator("[data-pages] li")).to_have_count(2)
    page.get_by_role("button", name="Down page 1").click()
    expect(page.get_by_role("status")).to_have_text("Page 1 is now page 2.")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Retake page 2").click()
    chooser.value.set_files([shot(9)])
    expect(page.get_by_role("status")).to_have_text("Page 2 retaken.")
    with page.expect_navigation(timeout=RECOGNITION_MS):
        page.get_by_role("button", name="Upload as one note").click()
    assert Note.objects.get(owner=user).pages_total == 2


def test_a_crop_set_with_the_edge_fields_reaches_the_note(phone, user):
    page = phone
    take_photos(page, 1)
    page.get_by_role("button", name="Crop page 1").click()
    dialog = page.get_by_role("dialog", name="Crop page 1")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Bottom").fill("50")
    dialog.get_by_role("button", name="Done").click()
    expect(page.get_by_role("status")).to_have_text("Page 1 cropped.")
    with page.expect_navigation(timeout=RECOGNITION_MS):
        page.get_by_role("button", name="Upload as one note").click()
    note = Note.objects.get(owner=user)
    assert [(p.width, p.height) for p in note.pages.all()] == [(WIDTH, HEIGHT // 2)]


def test_a_crop_drawn_on_the_photo(phone):
    page = phone
    take_photos(page, 1)
    page.get_by_role("button", name="Crop page 1").click()
    box = page.locator("[data-crop-canvas]").bounding_box()
    # Drag from a quarter in to three quarters in (pointer events, as a finger gives them).
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.75, steps=4)
    page.mouse.up()
    trims = [page.get_by_label(edge).input_value() for edge in ("Left", "Top", "Right",
                                                                 "Bottom")]
    assert trims == ["25", "25", "25", "25"]
    page.get_by_role("button", name="Reset crop").click()
    assert page.get_by_label("Left").input_value() == "0"


def test_capture_page_fits_a_small_phone_with_large_targets(phone):
    page = phone
    page.set_viewport_size({"width": 360, "height": 740})
    take_photos(page, 2)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    small = page.locator("[data-capture] button:visible").evaluate_all(
        "buttons => buttons.filter(b => { const r = b.getBoundingClientRect();"
        " return r.width < 44 || r.height < 44; }).map(b => b.textContent)")
    assert small == []


def test_a_note_captured_offline_uploads_when_back_online(phone, user):
    page = phone
    take_photos(page, 2)
    page.context.set_offline(True)
    page.get_by_role("button", name="Upload as one note").click()
    queued = "Saved on this phone; it will upload when you are back online."
    expect(page.get_by_role("status").filter(has_text=queued)).to_be_visible()
    expect(page.locator(".toast").filter(has_text=queued)).to_be_visible()
    expect(page.locator("[data-pages] li")).to_have_count(0)
    assert page.evaluate("window.notesQueue.all().then(items => items.length)") == 1
    assert not Note.objects.exists()

    page.context.set_offline(False)  # the `online` event: pwa.js sends the queue
    toast = page.locator(".toast").filter(has_text="was uploaded from this phone")
    expect(toast).to_be_visible(timeout=RECOGNITION_MS)
    [note] = Note.objects.filter(owner=user)
    assert note.pages_total == 2
    assert toast.get_by_role("link", name="Open the note").get_attribute("href") == reverse(
        "recognition:note", args=[note.pk])
    assert page.evaluate("window.notesQueue.all().then(items => items.length)") == 0


def test_a_queued_note_the_server_refuses_is_dropped_with_the_reason(phone, user, settings):
    page = phone
    take_photos(page, 2)
    page.context.set_offline(True)
    page.get_by_role("button", name="Upload as one note").click()
    expect(page.locator(".toast").filter(has_text="Saved on this phone")).to_be_visible()
    settings.NOTES_MAX_FILES_PER_UPLOAD = 1  # meanwhile, a note may only have one page
    page.errors.expect(page.url, "413")  # Chromium logs the refusal as a failed resource
    page.context.set_offline(False)
    expect(page.locator(".toast").filter(has_text="could not be uploaded")).to_contain_text(
        "2 pages; one note holds at most 1.", timeout=RECOGNITION_MS)
    assert page.evaluate("window.notesQueue.all().then(items => items.length)") == 0
    assert not Note.objects.exists()
