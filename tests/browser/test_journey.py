"""One visitor's whole journey in a real browser, and a second visitor who sees none of it.

Sign up, make a collection, upload two photos and a PDF into it, watch the PDF's recognition
on its note page, correct a line, find it by searching, export a searchable PDF, log out; then
another account, in a browser context of its own, finds nothing of the first one's. No page may
log a console error on the way (a Content-Security-Policy violation is one).
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from recognition.models import Line, Note
from tests.browser.conftest import ConsoleErrors
from tests.conftest import PASSWORD, encode

pytestmark = pytest.mark.slow  # a browser, and four pages recognized on the CPU

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect

FIX = "Quokka inventory"
WORD = "Quokka"
COLLECTION = "Field trip"
RECOGNITION_MS = 240_000  # the upload answers once its notes are recognized (NOTES_Q_SYNC)


@pytest.fixture
def uploads(page_image, pdf_upload) -> list[dict]:
    """Two different photos and a two-page PDF, as Playwright's file payloads."""
    top = page_image.crop((0, 0, page_image.width, page_image.height // 2))
    return [
        {"name": "monday.jpg", "mimeType": "image/jpeg",
         "buffer": encode(page_image, "JPEG", quality=90)},
        {"name": "tuesday.png", "mimeType": "image/png", "buffer": encode(top, "PNG")},
        {"name": "lecture.pdf", "mimeType": "application/pdf",
         "buffer": pdf_upload(pages=2).read()},
    ]


def new_page(browser, errors: ConsoleErrors):
    """A tab in a browser context of its own (its own cookies: another visitor)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors.watch(page)
    return page


def sign_up(page, url: str, username: str) -> None:
    page.goto(url + reverse("accounts:signup"))
    page.fill("#id_username", username)
    page.fill("#id_email", f"{username}@example.org")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("status").first).to_contain_text("Welcome!")
    expect(page.get_by_role("link", name=username)).to_be_visible()


def upload_into_new_collection(page, url: str, uploads: list[dict], errors: ConsoleErrors):
    """Uploads into a new collection. The upload's request recognizes its notes one by one
    after it committed them (NOTES_Q_SYNC): meanwhile the last note's page is opened in a
    second tab. Returns that tab and what it saw (`StatusWatch`)."""
    page.get_by_role("link", name="Collections").click()
    page.fill("#id_name", COLLECTION)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(COLLECTION)
    page.locator("[data-upload] input[type=file]").set_input_files(uploads)
    watcher = page.context.new_page()
    errors.watch(watcher)
    with page.expect_navigation(timeout=RECOGNITION_MS):  # upload.js follows the redirect
        page.get_by_role("button", name="Upload").click()
        watch = StatusWatch(watcher, url, stored_note(page, title="lecture"))
    cards = page.locator(".cards li.card")
    expect(cards).to_have_count(3)
    assert sorted(cards.locator(".title").all_inner_texts()) == ["lecture", "monday", "tuesday"]
    expect(cards.locator(".status")).to_have_text(["Done"] * 3)
    page.close()
    return watcher, watch


def stored_note(page, *, title: str) -> Note:
    """The note, as soon as its upload has committed it."""
    for _ in range(1500):
        note = Note.objects.filter(title=title).first()
        if note is not None:
            return note
        page.wait_for_timeout(20)
    raise AssertionError(f"no note {title!r} after 30 s")


class StatusWatch:
    """Opens a note's page and records, from then on, the tab's loads and its status polls
    (listeners rather than `expect_*` blocks: the poll that sees "done" reloads at once, maybe
    before the test gets there)."""

    def __init__(self, page, url: str, note: Note):
        status_path = reverse("recognition:notes-status")
        self.loads: list[str] = []
        self.polls: list[tuple[int, str]] = []
        page.on("framenavigated",
                lambda frame: frame == page.main_frame and self.loads.append(frame.url))
        page.on("response", lambda r: status_path in r.url and self.polls.append(
            (r.status, r.headers.get("content-type", ""))))
        # The HTML alone decides whether note.js polls: it must come before recognition ends.
        response = page.goto(url + reverse("recognition:note", args=[note.pk]),
                             wait_until="commit")
        self.first_status = re.search(r'data-status="(\w+)"', response.text()).group(1)


def watch_until_recognized(page, watch: StatusWatch) -> None:
    """The status area follows recognition (live-status.js polls the status URL) until it is done;
    note.js then reloads the page, where the lines are editable."""
    assert watch.first_status in ("queued", "processing"), "recognized before the page loaded"
    expect(page.locator('[data-editor][data-editable="1"]')).to_be_attached(
        timeout=RECOGNITION_MS)
    expect(page.locator("[data-status-label]")).to_have_text("Done")
    expect(page.locator("[data-progress]")).to_have_count(0)
    assert watch.polls and all(status == 200 and "json" in kind for status, kind in watch.polls)
    assert len(watch.loads) == 2 and watch.loads[0] == watch.loads[1] == page.url  # + reload


def correct_a_line(page) -> int:
    """Types FIX into the first line that has a region on the page image; returns its id."""
    ids = page.locator("li[data-line]").evaluate_all(
        "items => items.map(li => li.dataset.line)"
        ".filter(id => document.getElementById('region-' + id))")
    assert ids, "no line with a region on the page image"
    item = page.locator(f'li[data-line="{ids[0]}"]')
    item.click()
    line_input = item.locator("input")
    line_input.press("Control+A")
    line_input.press_sequentially(FIX)
    line_input.press("Enter")
    expect(item).to_have_attribute("data-text", FIX)
    expect(item.locator(".text")).to_have_text(FIX)
    expect(item).to_have_class(re.compile(r"\bcorrected\b"))
    return int(ids[0])


def search(page, query: str):
    """Searches with the box in the header; returns the hits."""
    box = page.get_by_role("searchbox", name="Search your notes")
    box.fill(query)
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?"))
    return page.locator("ol.hits li.hit")


def export_pdf_text(page) -> str:
    """Downloads the note's searchable PDF; returns its text layer."""
    from pypdf import PdfReader

    with page.expect_download() as info:
        page.get_by_role("link", name="Searchable PDF").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    return "\n".join(p.extract_text() for p in PdfReader(download.path()).pages)


def test_a_visitors_journey_stays_private(live_server, chromium, uploads):
    url, errors = live_server.url, ConsoleErrors()
    page = new_page(chromium, errors)
    sign_up(page, url, "ada")
    page, watch = upload_into_new_collection(page, url, uploads, errors)
    watch_until_recognized(page, watch)
    note_url = page.url
    line = Line.objects.select_related("page__note").get(pk=correct_a_line(page))
    assert (line.text, line.corrected, line.page.note.title) == (FIX, True, "lecture")

    hit = search(page, WORD).filter(has_text=FIX)
    expect(hit).to_have_count(1)
    crop = hit.locator("img")
    expect(crop).to_have_attribute("src", reverse("recognition:line-crop",
                                                  args=[line.page.note_id, line.pk]))
    crop.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=crop.element_handle())

    hit.get_by_role("link", name="lecture").click()
    assert page.url == f"{note_url}#line-{line.pk}"  # the note, opened at the line found
    assert FIX in export_pdf_text(page)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    assert page.goto(note_url).url.startswith(url + reverse("accounts:login"))

    other = new_page(chromium, errors)
    sign_up(other, url, "bob")
    expect(other.locator(".cards li")).to_have_text(["No notes yet."])
    other.get_by_role("link", name="Collections").click()
    expect(other.locator("ul.collections")).not_to_contain_text(COLLECTION)
    expect(search(other, WORD)).to_have_count(0)
    expect(other.get_by_role("status")).to_have_text("0 lines found")
    note = line.page.note
    for private in (note_url, url + reverse("recognition:collection", args=[note.collection_id]),
                    url + reverse("recognition:line-crop", args=[note.pk, line.pk])):
        errors.expect(private, "404")  # Chromium logs the refused page as a failed resource
        assert other.goto(private).status == 404
        expect(other.locator("body")).not_to_contain_text(COLLECTION)
        expect(other.locator("body")).not_to_contain_text(FIX)

    assert errors.found == []
