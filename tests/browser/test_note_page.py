"""The note page in a real browser (Chromium through Playwright): what its JavaScript does.

Skipped where there is no Chromium (`apt install chromium`): a fresh machine runs the rest.
"""

import re
import shutil

import pytest
from django.urls import reverse

from recognition import revisions, services
from recognition.models import Line, Note
from tests.browser.conftest import sign_in

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt install chromium)"),
    pytest.mark.slow,
]


@pytest.fixture(autouse=True)
def sync_orm_beside_playwright(monkeypatch):
    """Playwright's sync API keeps an event loop on this thread; the ORM calls here are still
    plain synchronous code, which Django then refuses unless told (its documented escape)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def note(transactional_db, user, jpeg_upload):
    [note] = services.note_upload(user=user, files=[jpeg_upload()])  # recognized inline
    return Note.objects.get(pk=note.pk)


@pytest.fixture
def browser_page(live_server, client, user):
    client.force_login(user)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        sign_in(context, live_server.url, client)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        browser.close()
    assert errors == []


def lines_of(note):
    return list(Line.objects.filter(page__note=note).order_by("order"))


def test_correcting_lines_with_the_keyboard(live_server, browser_page, note):
    page = browser_page
    assert note.status == "done"
    page.goto(live_server.url + reverse("recognition:note", args=[note.pk]))
    first, second = page.locator("li[data-line]").nth(0), page.locator("li[data-line]").nth(1)

    first.click()
    first.locator("input").fill("Groceries for Sunday")
    first.locator("input").press("Enter")

    second.locator("input").wait_for()  # Enter saved and moved on to the next line
    assert first.get_attribute("data-text") == "Groceries for Sunday"
    line = lines_of(note)[0]
    assert line.text == "Groceries for Sunday" and line.corrected
    assert page.locator("[data-editor]").get_attribute("data-revision") == "2"
    following = lines_of(note)[1]  # the line being edited now is the one lit on the image
    assert "active" in page.locator(f"#region-{following.pk}").get_attribute("class")


def test_a_conflicting_save_offers_to_keep_mine(live_server, browser_page, note, user):
    page = browser_page
    page.goto(live_server.url + reverse("recognition:note", args=[note.pk]))
    target = lines_of(note)[1]
    revisions.lines_update(user=user, note=note, edits={target.pk: "changed on the phone"},
                           base_revision=1)  # another device, after the page was loaded
    item = page.locator(f'li[data-line="{target.pk}"]')
    item.click()
    item.locator("input").fill("changed on the laptop")
    item.locator("input").press("Enter")

    conflict = item.locator(".conflict")
    conflict.wait_for()
    assert "changed on the phone" in conflict.inner_text()
    assert Line.objects.get(pk=target.pk).text == "changed on the phone"  # nothing overwritten
    conflict.get_by_role("button", name="Keep mine").click()
    conflict.wait_for(state="detached")
    assert Line.objects.get(pk=target.pk).text == "changed on the laptop"


def test_zoom_and_phone_layout(live_server, browser_page, note):
    page = browser_page
    page.goto(live_server.url + reverse("recognition:note", args=[note.pk]))
    svg = page.locator(".viewer svg")
    full = svg.get_attribute("viewBox")
    page.get_by_role("button", name="Zoom in").click()
    assert svg.get_attribute("viewBox") != full
    page.get_by_role("button", name="Fit").click()
    assert svg.get_attribute("viewBox").split() == [str(v) for v in (0, 0)] + full.split()[2:]

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    zoom_box = page.locator(".zoom").bounding_box()
    image_box = svg.bounding_box()
    assert image_box["y"] <= zoom_box["y"] <= image_box["y"] + image_box["height"]


def test_the_revision_link_follows_inline_saves(live_server, browser_page, note):
    page = browser_page
    page.goto(live_server.url + reverse("recognition:note", args=[note.pk]))
    link = page.locator(".note-head").get_by_role("link", name=re.compile(r"^revision \d+$"))
    playwright.expect(link).to_have_text("revision 1")
    first = page.locator("li[data-line]").nth(0)
    first.click()
    first.locator("input").fill("Groceries for Sunday")
    first.locator("input").press("Enter")
    playwright.expect(link).to_have_text("revision 2")
    assert link.get_attribute("href") == reverse("recognition:note-history", args=[note.pk])


def test_each_line_can_be_linked_to(live_server, browser_page, note):
    page = browser_page
    page.goto(live_server.url + reverse("recognition:note", args=[note.pk]))
    ids = page.locator("li[data-line]").evaluate_all("items => items.map(li => li.id)")
    assert ids == [f"line-{line.pk}" for line in lines_of(note)]
