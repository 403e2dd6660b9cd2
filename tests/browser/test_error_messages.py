"""The pages' scripts read the site's one JSON error shape and show its messages; the revision
page compares on a choice with an external script, not an inline handler."""

from __future__ import annotations

import pytest
from django.urls import reverse

from recognition import revisions, services
from recognition.models import Line, Note
from tests.browser.conftest import ConsoleErrors, sign_in

pytestmark = pytest.mark.slow  # a browser, and one page recognized on the CPU


@pytest.fixture
def browser_page(chromium, live_server, client, transactional_db, user):
    """A page logged in as alice; uncaught script errors fail the test."""
    client.force_login(user)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    sign_in(context, live_server.url, client)
    page, errors = context.new_page(), ConsoleErrors()
    page.on("pageerror", lambda error: errors.found.append(f"{page.url}: {error}"))
    yield page
    assert errors.found == []


@pytest.fixture
def note(transactional_db, user, jpeg_upload):
    [note] = services.note_upload(user=user, files=[jpeg_upload()])  # recognized inline
    return Note.objects.get(pk=note.pk)


def test_a_line_over_the_limit_shows_why_it_was_not_saved(live_server, browser_page, note,
                                                          settings):
    settings.NOTES_MAX_LINE_CHARS = 10
    page = browser_page
    page.goto(live_server.url + reverse("recognition:note", args=[note.pk]))
    item = page.locator("li[data-line]").nth(0)
    item.click()
    item.locator("input").fill("fifteen letters")
    item.locator("input").press("Enter")
    problem = item.locator(".conflict")
    problem.wait_for()
    assert problem.inner_text() == ("Line 1 is 15 characters long; a line may have at most "
                                    "10.")
    first = Line.objects.filter(page__note=note).order_by("order").first()
    assert first.text != "fifteen letters" and not first.corrected


def test_a_refused_upload_lists_the_reasons(live_server, browser_page):
    page = browser_page
    page.goto(live_server.url + reverse("recognition:upload"))
    page.set_input_files("input[type=file]", files=[
        {"name": "essay.docx", "mimeType": "application/octet-stream",
         "buffer": b"PK\x03\x04 not a picture"}])
    page.get_by_role("button", name="Upload").click()
    reason = page.locator("[data-errors] li")
    reason.wait_for()
    assert reason.inner_text().startswith("“essay.docx” is not a supported file.")
    assert not Note.objects.exists()


def test_choosing_a_revision_to_compare_with_shows_that_diff(live_server, browser_page, note,
                                                              user):
    line = Line.objects.filter(page__note=note).order_by("order").first()
    revisions.lines_update(user=user, note=note, edits={line.pk: "Groceries for Sunday"},
                           base_revision=1)
    page = browser_page
    page.goto(live_server.url + reverse("recognition:revision", args=[note.pk, 2]))
    assert page.get_by_role("button", name="Compare").is_hidden()  # the script took over
    assert "1 line differs from revision 1" in page.inner_text("main")
    page.select_option("select[name=against]", "0")
    page.wait_for_url("**?against=0")
    assert "from revision" not in page.locator("main p", has_text="differ").inner_text()
