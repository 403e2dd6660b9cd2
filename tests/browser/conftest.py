"""Shared helpers of the browser tests: Debian's Chromium launched headless, console errors."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Headless, and nothing the browser would fetch on its own (updates, sync, first-run pages):
# the tests' machines reach nothing outside, and the live server is the only site here.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def chromium(monkeypatch):
    """A headless Chromium (Playwright), closed after the test; skips without one."""
    if CHROMIUM is None:
        pytest.skip("needs Chromium (apt install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop on this thread; the ORM calls of a test are
    # still plain synchronous code, which Django then refuses unless told (its documented escape).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def sign_in(context, url: str, client) -> None:
    """Give a browser context the session of the user `client` (Django's test client) is
    logged in as, for the site at `url`."""
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": url}])


@dataclass
class ConsoleErrors:
    """Every console message of type error and every uncaught exception of the pages watched,
    as "url: text" lines. `expect(url, text)` names one the test causes on purpose."""

    found: list[str] = field(default_factory=list)
    expected: list[tuple[str, str]] = field(default_factory=list)

    def watch(self, page) -> None:
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.found.append(f"{page.url}: {error}"))

    def expect(self, url: str, text: str) -> None:
        self.expected.append((url, text))

    def _console(self, page, message) -> None:
        if message.type != "error":
            return
        url = message.location.get("url") or page.url
        if not any(url == where and text in message.text for where, text in self.expected):
            self.found.append(f"{url}: {message.text}")
