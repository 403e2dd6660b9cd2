"""axe-core (WCAG 2.0/2.1 A and AA rules) finds no serious or critical problem on the main
pages, in the light and the dark colour scheme. Skipped where there is no Chromium.

`python -m bench.accessibility` measures every page, with the minor ones too.
"""

from __future__ import annotations

import pytest

from bench.accessibility import (
    BLOCKING,
    DESKTOP,
    axe_violations,
    open_pages,
    session_cookie,
    site_pages,
)

pytestmark = pytest.mark.slow  # a browser, and a page recognized on the CPU

playwright = pytest.importorskip("playwright.sync_api")
pytest.importorskip("axe_playwright_python")

PAGES = ("landing", "log-in", "home", "note", "search", "history")


@pytest.fixture
def site(transactional_db, user):
    """The pages to check and the session cookie of their owner."""
    return [p for p in site_pages(user) if p.name in PAGES], session_cookie(user)


def serious_problems(chromium, url: str, site, scheme: str) -> dict[str, list[str]]:
    """{page name: ["rule-id (impact): targets"]} of the serious and critical violations."""
    pages, cookie = site
    context = chromium.new_context(viewport=DESKTOP, color_scheme=scheme)
    found = {}
    for site_page, tab in open_pages(context, url, pages, cookie):
        tab.goto(url + site_page.path)
        problems = [f"{v['id']} ({v['impact']}): {', '.join(v['targets'][:3])}"
                    for v in axe_violations(tab) if v["impact"] in BLOCKING]
        if problems:
            found[site_page.name] = problems
    context.close()
    return found


def test_main_pages_have_no_serious_accessibility_problems(live_server, chromium, site):
    assert serious_problems(chromium, live_server.url, site, "light") == {}


def test_main_pages_have_no_serious_accessibility_problems_in_the_dark(
        live_server, chromium, site):
    assert serious_problems(chromium, live_server.url, site, "dark") == {}
