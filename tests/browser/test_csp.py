"""The Content-Security-Policy in a real browser: our scripts, Swagger UI's and the admin's run,
with no violation logged, and an injected inline script does not."""

from __future__ import annotations

import pytest
from django.urls import reverse

from recognition import services
from recognition.models import Tag
from tests.browser.conftest import ConsoleErrors, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.slow  # a browser, and one page recognized on the CPU

playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def browser_page(chromium, live_server, client, transactional_db):
    """A page logged in as a superuser, watched for console errors (a CSP violation is one)."""
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    sign_in(context, live_server.url, client)
    page, errors = context.new_page(), ConsoleErrors()
    errors.watch(page)
    page.user = user
    yield page, errors
    assert errors.found == []


def test_note_page_scripts_run_and_injected_inline_script_does_not(live_server, browser_page,
                                                                     jpeg_upload):
    page, errors = browser_page
    [note] = services.note_upload(user=page.user, files=[jpeg_upload()])  # recognized inline
    url = live_server.url + reverse("recognition:note", args=[note.pk])
    page.goto(url)
    svg = page.locator(".viewer svg")
    full = svg.get_attribute("viewBox")
    page.get_by_role("button", name="Zoom in").click()  # static/js/note.js is running
    assert svg.get_attribute("viewBox") != full

    errors.expect(url, "Content Security Policy")
    with pytest.raises(playwright.Error):
        page.add_script_tag(content="window.injected = true")  # what an XSS would do
    assert page.evaluate("window.injected") is None


def test_api_docs_render_under_the_policy(live_server, browser_page):
    page, _ = browser_page
    page.goto(live_server.url + reverse("api-docs"))
    title = page.locator(".swagger-ui .info .title")
    title.wait_for()  # the nonced start-up script ran and loaded the schema
    assert "Notes digitizer API" in title.inner_text()
    assert page.locator(".opblock").count() > 10


def test_admin_scripts_run_under_the_policy(live_server, browser_page):
    page, errors = browser_page
    errors.expect(live_server.url + "/favicon.ico", "404")  # the admin links no icon
    page.goto(live_server.url + "/admin/recognition/tag/add/")
    page.select_option("#id_owner", label="root")
    page.fill("#id_name", "exam")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/admin/recognition/tag/")
    assert Tag.objects.get().name == "exam"
    page.goto(live_server.url + "/admin/auth/user/")  # the list's select-all is admin JS
    page.locator("#action-toggle").check()
    assert page.locator("input.action-select:checked").count() == 1
