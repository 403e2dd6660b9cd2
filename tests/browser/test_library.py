"""The notes library in a real browser: pages, sort and filters, and bulk actions with
"select all on this page" (static/js/library.js); no console error, nothing wider than a phone.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from recognition.models import Note
from tests.browser.conftest import ConsoleErrors, sign_in

pytestmark = pytest.mark.slow  # a browser

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect


@pytest.fixture
def library(transactional_db, user):
    """60 notes of the user (every fifth failed), each with a thumbnail of its own (deleting
    a note deletes its files)."""
    out = io.BytesIO()
    Image.new("RGB", (30, 40), "white").save(out, "JPEG")
    inbox = user.collections.create(name="Inbox")
    user.collections.create(name="Archive")
    Note.objects.bulk_create([
        Note(owner=user, collection=inbox, title=f"Note {i:02d}", kind="image", size=1,
             content_type="image/jpeg", sha256="0", original="o.jpg", original_name="o.jpg",
             thumbnail=default_storage.save(f"thumbs/{i}.jpg", ContentFile(out.getvalue())),
             status="failed" if i % 5 == 0 else "done",
             text=f"first line of {i}\nmore", pages_total=1, pages_done=1)
        for i in range(60)])
    return user


@pytest.fixture
def errors():
    return ConsoleErrors()


@pytest.fixture
def page(live_server, client, chromium, library, errors):
    client.force_login(library)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    sign_in(context, live_server.url, client)
    tab = context.new_page()
    errors.watch(tab)
    yield tab
    assert errors.found == []


def test_pages_sort_and_filters(live_server, page):
    page.goto(live_server.url + reverse("recognition:home"))
    cards = page.locator(".cards li.card")
    expect(cards).to_have_count(48)
    expect(page.locator(".summary")).to_have_text("1–48 of 60 notes")
    page.get_by_role("link", name="Next page").click()
    expect(cards).to_have_count(12)
    expect(page.get_by_role("link", name="Page 2")).to_have_attribute("aria-current", "page")

    page.get_by_label("Sort", exact=True).select_option("title")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(cards.first.locator(".title")).to_have_text("Note 00")
    expect(cards.first.locator(".snippet")).to_have_text("first line of 0")

    page.get_by_label("Status", exact=True).select_option("failed")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(cards).to_have_count(12)
    expect(cards.locator(".status")).to_have_text(["Failed"] * 12)
    expect(page.get_by_role("navigation", name="Pages")).to_have_count(0)

    page.get_by_label("Save these filters as").fill("Failed ones")
    page.get_by_role("button", name="Save search").click()
    expect(page.get_by_role("link", name="Failed ones")).to_be_visible()

    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_bulk_actions_with_select_all(live_server, page):
    page.goto(live_server.url + reverse("recognition:home"))
    bar = page.locator("[data-bulk]")
    apply = bar.get_by_role("button", name="Apply to selected")
    expect(apply).to_be_disabled()
    bar.get_by_label("Action", exact=True).select_option("tag_add")
    expect(bar.get_by_label("Move to")).to_be_hidden()
    bar.get_by_label("Select all on this page").check()
    expect(bar.locator("[data-selected-count]")).to_have_text("(48 selected)")
    bar.get_by_label("Tag name").fill("exam")
    apply.click()
    expect(page.get_by_role("status").first).to_have_text("Tag “exam” added to 48 notes.")
    assert Note.objects.filter(tags__name="exam").count() == 48

    page.get_by_label("Select “Note 59”").check()
    page.get_by_label("Select “Note 58”").check()
    expect(page.locator("[data-selected-count]")).to_have_text("(2 selected)")
    page.get_by_label("Action", exact=True).select_option("delete")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete 2 notes?")
    page.get_by_role("button", name="Delete 2 notes").click()
    expect(page.get_by_role("status").first).to_have_text("2 notes deleted.")
    assert Note.objects.count() == 58


def test_a_phone_shows_notes_first_and_the_bulk_fields_once_something_is_picked(
        live_server, page):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url + reverse("recognition:home"))
    expect(page.get_by_label("Sort", exact=True)).to_be_hidden()  # folded: no filter set
    bar = page.locator("[data-bulk]")
    expect(bar.get_by_label("Action", exact=True)).to_be_hidden()
    expect(page.locator(".card").first).to_be_in_viewport()

    page.get_by_label("Select “Note 59”").check()
    expect(bar.get_by_label("Action", exact=True)).to_be_visible()
    expect(bar.get_by_role("button", name="Apply to selected")).to_be_enabled()

    page.get_by_text("Filter and sort").click()
    page.get_by_label("Status", exact=True).select_option("failed")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.get_by_label("Status", exact=True)).to_be_visible()  # set: stays open
