"""No page of the site is wider than a 360 px phone screen (nothing to scroll sideways).

Every page (`bench.accessibility.site_pages`: the landing and log-in pages, the notes, a note
with two revisions, its history, search with results, the profile...) at a 360x740 viewport,
logged in where the page needs it. Skipped where there is no Chromium.
"""

from __future__ import annotations

import pytest

from bench.accessibility import (
    CORRECTION,
    PHONE,
    open_pages,
    page_width,
    session_cookie,
    site_pages,
    widest_elements,
)
from tests.browser.conftest import ConsoleErrors

pytestmark = pytest.mark.slow  # a browser, and a page recognized on the CPU

playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def site(transactional_db, user):
    """The pages to visit and the session cookie of their owner."""
    return site_pages(user), session_cookie(user)


def visit_all(chromium, url: str, site, **context_options) -> dict[str, object]:
    """{page name: (width, widest elements)} of the pages wider than the viewport; also
    checks each answered its expected status and logged no console error."""
    pages, cookie = site
    context = chromium.new_context(viewport=PHONE, **context_options)
    errors, too_wide = ConsoleErrors(), {}
    for site_page, tab in open_pages(context, url, pages, cookie):
        errors.watch(tab)
        if site_page.status != 200:
            errors.expect(url + site_page.path, str(site_page.status))
        response = tab.goto(url + site_page.path)
        assert response.status == site_page.status, site_page
        assert tab.url == url + site_page.path, tab.url  # not sent elsewhere (log-in)
        if site_page.name == "search":  # with its results
            assert CORRECTION in tab.locator("main").inner_text()
        width = page_width(tab)
        if width > PHONE["width"]:
            too_wide[site_page.name] = (width, widest_elements(tab))
    context.close()
    assert errors.found == []
    return too_wide


def test_no_page_is_wider_than_a_360_px_phone(live_server, chromium, site):
    assert visit_all(chromium, live_server.url, site) == {}

