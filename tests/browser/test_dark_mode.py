"""The dark colour scheme (`prefers-color-scheme: dark`, static/css/app.css): light text on a
dark page, and no light panel left behind the text anywhere. Skipped where there is no Chromium.
"""

from __future__ import annotations

import pytest

from bench.accessibility import DESKTOP, open_pages, session_cookie, site_pages

pytestmark = pytest.mark.slow  # a browser, and a page recognized on the CPU

playwright = pytest.importorskip("playwright.sync_api")

PAGES = ("landing", "log-in", "home", "collection", "note", "history", "revision", "search",
         "handwriting", "profile")
# In the page: the relative luminance (WCAG) of the body's background and text colours, and
# the elements painting a light background (their own or the nearest opaque one of their
# ancestors) behind text of their own. Pictures are left alone, and so are the accent's buttons
# (a light colour with dark text in the dark scheme: luminance 0.43, under the 0.6 looked for).
COLOURS = """() => {
    const lum = c => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(v => {
        v = v / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const opaque = el => { const p = getComputedStyle(el).backgroundColor.match(/[\\d.]+/g);
        return p.length === 3 || Number(p[3]) >= 0.5; };
    const panels = new Set();
    for (const el of document.querySelectorAll('body *')) {
        if (!el.checkVisibility() || el.closest('svg, img, picture, video, canvas')) continue;
        if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
        let panel = el;
        while (panel.parentElement && !opaque(panel)) panel = panel.parentElement;
        if (lum(getComputedStyle(panel).backgroundColor) > 0.6)
            panels.add(panel.tagName.toLowerCase() + '.' + String(panel.className).trim());
    }
    const body = getComputedStyle(document.body);
    return [lum(body.backgroundColor), lum(body.color), [...panels]];
}"""

@pytest.fixture
def site(transactional_db, user):
    """The pages to check and the session cookie of their owner."""
    return [p for p in site_pages(user) if p.name in PAGES], session_cookie(user)


def colours(chromium, url: str, site, scheme: str) -> dict[str, tuple[float, float, list]]:
    """{page: (body background luminance, body text luminance, light panels with text)}."""
    pages, cookie = site
    context = chromium.new_context(viewport=DESKTOP, color_scheme=scheme)
    found = {}
    for site_page, tab in open_pages(context, url, pages, cookie):
        tab.goto(url + site_page.path)
        found[site_page.name] = tuple(tab.evaluate(COLOURS))
    context.close()
    return found


def test_dark_scheme_shows_light_text_on_dark_pages(live_server, chromium, site):
    found = colours(chromium, live_server.url, site, "dark")
    assert set(found) == set(PAGES)
    assert {name: (bg, text) for name, (bg, text, _) in found.items()
            if bg > 0.05 or text < 0.6} == {}


def test_dark_scheme_leaves_no_light_panel_behind_text(live_server, chromium, site):
    found = colours(chromium, live_server.url, site, "dark")
    assert {name: panels for name, (_, _, panels) in found.items() if panels} == {}


def test_light_scheme_stays_light(live_server, chromium, site):
    found = colours(chromium, live_server.url, site, "light")
    assert all(bg > 0.85 and text < 0.05 for bg, text, _ in found.values()), found
