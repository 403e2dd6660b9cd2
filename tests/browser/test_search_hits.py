"""Search hits in a real browser (Chromium through Playwright): a hit opens its note at its line,
and a quoted phrase finds only itself.

Skipped where there is no Chromium (`apt install chromium`).
"""

from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse

from recognition.models import Line, Note, Page, Revision
from recognition.revisions import revision_record
from recognition.search.index import note_index
from tests.browser.conftest import ConsoleErrors, sign_in
from tests.conftest import encode
from tests.factories import CollectionFactory

pytestmark = pytest.mark.slow
playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect

FILLER = 30  # lines before the hit: it starts well below the first screen


@pytest.fixture
def errors():
    found = ConsoleErrors()
    yield found
    assert found.found == []


@pytest.fixture
def long_note(transactional_db, user, page_image) -> Note:
    """A read note of one page: FILLER lines, then "Meeting at Stanford", "Meeting at Stamford"."""
    texts = [f"ordinary line number {n}" for n in range(FILLER)] + [
        "Meeting at Stanford", "Meeting at Stamford"]
    step = page_image.height // len(texts)
    with transaction.atomic():
        note = Note.objects.create(
            owner=user, collection=CollectionFactory(owner=user), title="Field trip",
            status="done", kind="image", content_type="image/jpeg", size=1, sha256="0",
            original="notes/x/original.jpg", original_name="trip.jpg", pages_total=1,
            pages_done=1)
        image = default_storage.save("notes/trip/page-001.jpg",
                                     ContentFile(encode(page_image, "JPEG")))
        page = Page.objects.create(note=note, number=1, image=image, width=page_image.width,
                                   height=page_image.height, recognized=True)
        for order, text in enumerate(texts):
            top = order * step
            Line.objects.create(page=page, order=order, text=text, machine_text=text,
                                confidence=0.9, polygon=[[10, top], [600, top],
                                                         [600, top + step], [10, top + step]])
        revision_record(note=note, kind=Revision.Kind.MACHINE, summary="Recognized")
    note_index(note_id=note.pk)
    return note


@pytest.fixture
def tab(chromium, live_server, client, user, errors):
    """A logged-in tab of a phone's size (the page image above the lines)."""
    client.force_login(user)
    context = chromium.new_context(viewport={"width": 360, "height": 740})
    sign_in(context, live_server.url, client)
    page = context.new_page()
    errors.watch(page)
    return page


def search(tab, live_server, q: str):
    tab.goto(live_server.url + reverse("recognition:search"))
    tab.locator("main").get_by_role("searchbox").fill(q)
    tab.locator("main").get_by_role("button", name="Search").click()
    tab.locator("ol.hits").wait_for()


def in_viewport(tab, locator) -> bool:
    box = locator.bounding_box()
    height = tab.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_a_search_hit_opens_the_note_at_its_line(tab, live_server, long_note):
    target = Line.objects.get(page__note=long_note, text="Meeting at Stanford")
    search(tab, live_server, "stanford")
    tab.locator(".hit").first.get_by_role("link", name="Field trip").click()

    assert tab.url.endswith(reverse("recognition:note", args=[long_note.pk])
                            + f"#line-{target.pk}")
    line = tab.locator(f"#line-{target.pk}")
    expect(line).to_be_focused()
    expect(line).to_have_class(re.compile(r"\bhit-target\b"))
    expect(tab.locator(f"#region-{target.pk}")).to_have_class(re.compile(r"\bhit-target\b"))
    assert in_viewport(tab, line)
    assert tab.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    assert tab.locator(".hit-target").count() == 2  # the line and its region, nothing else


def test_following_another_lines_link_moves_the_mark(tab, live_server, long_note):
    first, other = Line.objects.filter(page__note=long_note).order_by("-order")[:2]
    url = live_server.url + reverse("recognition:note", args=[long_note.pk])
    tab.goto(f"{url}#line-{first.pk}")
    expect(tab.locator(f"#line-{first.pk}")).to_be_focused()
    tab.evaluate(f"window.location.hash = 'line-{other.pk}'")
    expect(tab.locator(f"#line-{other.pk}")).to_be_focused()
    expect(tab.locator(f"#line-{first.pk}")).not_to_have_class(re.compile(r"\bhit-target\b"))


def test_a_quoted_phrase_finds_only_that_phrase_on_the_search_page(tab, live_server,
                                                                    long_note):
    search(tab, live_server, '"at stanford"')
    expect(tab.locator(".hit .snippet")).to_have_text(["Meeting at Stanford"])
    expect(tab.locator(".hit .match")).to_have_count(0)  # no "similar spelling"
    search(tab, live_server, "stanford")  # unquoted: the misreading too
    expect(tab.locator(".hit .snippet")).to_have_text(
        ["Meeting at Stanford", "Meeting at Stamford"])
