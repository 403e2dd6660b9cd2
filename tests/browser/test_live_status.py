"""Live status in a real browser (Chromium through Playwright): live-status.js follows the notes
being read on Home and on the note page while the test changes their rows, as the worker would.

Skipped where there is no Chromium (`apt install chromium`).
"""

from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from recognition.models import Note
from tests.browser.conftest import ConsoleErrors, sign_in
from tests.conftest import encode
from tests.factories import CollectionFactory

pytestmark = pytest.mark.slow
playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect

STATUS_PATH = reverse("recognition:notes-status")
POLL_MS = 20_000  # a few polls, back-off included

# A browser whose notifications the user has not been asked about yet, and which records the
# ones shown (headless Chromium denies them, and shows none anyway). hasFocus(): the window is
# behind another one, when notifications are wanted.
NOTIFICATIONS = """
window.shownNotifications = [];
window.Notification = class {
  constructor(text, options) { window.shownNotifications.push(text); }
  addEventListener() {}
  static requestPermission() {
    window.Notification.permission = "granted";
    return Promise.resolve("granted");
  }
};
window.Notification.permission = "default";
document.hasFocus = () => false;
"""


@pytest.fixture
def errors():
    found = ConsoleErrors()
    yield found
    assert found.found == []


@pytest.fixture
def open_page(chromium, live_server, client, user, errors):
    """open_page(path, notifications=False): a logged-in tab on that page."""
    client.force_login(user)

    def open_(path: str, *, notifications: bool = False):
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        sign_in(context, live_server.url, client)
        if notifications:
            context.add_init_script(NOTIFICATIONS)
        page = context.new_page()
        errors.watch(page)
        page.polls = []
        page.loads = []
        page.on("request", lambda r: STATUS_PATH in r.url and page.polls.append(r.url))
        page.on("framenavigated",
                lambda frame: frame == page.main_frame and page.loads.append(frame.url))
        page.goto(live_server.url + path)
        return page

    return open_


@pytest.fixture
def make_note(transactional_db, user, page_image):
    """make_note(title, status): a note as an upload leaves it, thumbnail stored, no pages."""

    def make(title: str, status: str = "queued") -> Note:
        collection = CollectionFactory(owner=user, name=f"Inbox {title}")
        note = Note.objects.create(
            owner=user, collection=collection, title=title, status=status, kind="image",
            content_type="image/jpeg", size=1, sha256="0", original="notes/x/original.jpg",
            original_name=f"{title}.jpg", pages_total=2 if status != "done" else 1)
        thumbnail = page_image.copy()
        thumbnail.thumbnail((300, 300))
        note.thumbnail.name = default_storage.save(f"notes/{note.pk}/thumbnail.jpg",
                                                   ContentFile(encode(thumbnail, "JPEG")))
        note.save()
        return note

    return make


def test_a_home_card_turns_done_without_a_reload_and_a_toast_links_to_it(open_page, make_note):
    reading = make_note("Lecture")
    make_note("Old one", status="done")
    page = open_page(reverse("recognition:home"))
    card = page.locator(f'[data-note-status="{reading.pk}"]')
    if not card.count():
        pytest.skip("Home's cards do not carry data-note-status yet")
    expect(card.locator("[data-status-label]")).to_have_text("Queued")

    Note.objects.filter(pk=reading.pk).update(status="done", pages_done=2)
    expect(card.locator("[data-status-label]")).to_have_text("Done", timeout=POLL_MS)
    expect(card.locator("[data-status-label]")).to_have_class("status status-done")
    expect(card).to_have_attribute("data-status", "done")
    expect(card.locator("[data-progress]")).to_have_count(0)
    toast = page.locator("[data-toasts] .toast")
    expect(toast).to_contain_text("“Lecture” is ready.")
    expect(toast.get_by_role("link", name="Open")).to_have_attribute(
        "href", reverse("recognition:note", args=[reading.pk]))
    assert len(page.loads) == 1  # no reload
    assert all(f"ids={reading.pk}" in url for url in page.polls)  # only the active note


def test_the_note_page_follows_recognition_then_shows_the_read_note(open_page, make_note):
    note = make_note("Lecture")
    page = open_page(reverse("recognition:note", args=[note.pk]))
    box = page.locator("[data-status-box]")
    expect(box).to_have_attribute("aria-live", "polite")
    expect(page.locator("[data-preview-image]")).to_have_attribute(
        "src", reverse("recognition:note-thumbnail", args=[note.pk]))
    expect(page.locator(".note-preview figcaption")).to_have_text("Being read…")
    assert page.evaluate("document.querySelector('[data-preview-image]').naturalWidth") > 0

    Note.objects.filter(pk=note.pk).update(status="processing", pages_done=1)
    expect(box.locator("[data-status-label]")).to_have_text("Processing", timeout=POLL_MS)
    expect(box.locator("[data-progress]")).to_have_js_property("value", 50)
    expect(box.locator("[data-progress-text]")).to_have_text("1 / 2 pages")
    assert len(page.loads) == 1

    Note.objects.filter(pk=note.pk).update(status="done", pages_done=2)
    expect(box).to_have_attribute("data-status", "done", timeout=POLL_MS)
    expect(box.locator("[data-status-label]")).to_have_text("Done")
    expect(box.locator("[data-progress]")).to_have_count(0)
    assert len(page.loads) == 2  # note.js reloaded the page, which shows the read note
    expect(page.locator("[data-toasts] .toast")).to_have_count(0)  # this page is the news
    polls = len(page.polls)
    page.wait_for_timeout(4000)
    assert len(page.polls) == polls  # nothing being read: no more polls


def test_notifications_are_offered_while_notes_are_read_and_sent_when_done(open_page,
                                                                           make_note):
    note = make_note("Lecture")
    page = open_page(reverse("recognition:home"), notifications=True)
    if not page.locator(f'[data-note-status="{note.pk}"]').count():
        pytest.skip("Home's cards do not carry data-note-status yet")
    offer = page.get_by_role("button", name="Notify me when notes are ready")
    expect(offer).to_be_visible()
    offer.click()
    expect(offer).to_have_count(0)
    expect(page.locator("[data-toasts] .toast")).to_contain_text("You will be notified")

    Note.objects.filter(pk=note.pk).update(status="failed", error="Unreadable.")
    expect(page.locator("[data-toasts] .toast").last).to_contain_text(
        "“Lecture” could not be read.", timeout=POLL_MS)
    assert page.evaluate("window.shownNotifications") == ["“Lecture” could not be read."]


def test_the_note_page_offers_notifications_in_its_status_area(open_page, make_note):
    note = make_note("Lecture")
    page = open_page(reverse("recognition:note", args=[note.pk]), notifications=True)
    offer = page.locator("[data-notify-slot]").get_by_role(
        "button", name="Notify me when notes are ready")
    expect(offer).to_be_visible()


def test_no_notification_offer_where_nothing_is_being_read(open_page, make_note):
    note = make_note("Lecture", status="done")
    page = open_page(reverse("recognition:note", args=[note.pk]), notifications=True)
    page.wait_for_timeout(2500)
    expect(page.get_by_role("button", name=re.compile("Notify me"))).to_have_count(0)
    assert page.polls == []


def test_polling_pauses_while_the_tab_is_hidden(open_page, make_note):
    note = make_note("Lecture")
    page = open_page(reverse("recognition:note", args=[note.pk]))
    page.evaluate("""() => {
        Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""")
    polls = len(page.polls)
    page.wait_for_timeout(4000)
    assert len(page.polls) == polls
    page.evaluate("""() => {
        Object.defineProperty(document, "hidden", {configurable: true, get: () => false});
        document.dispatchEvent(new Event("visibilitychange"));
    }""")
    page.wait_for_timeout(1000)
    assert len(page.polls) > polls  # back in view: asks at once
