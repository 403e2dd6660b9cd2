"""The site as an installable app in a real browser: Chromium finds nothing that keeps it from
being installed, the service worker registers under the Content-Security-Policy, shows the
offline page without network, and keeps none of the user's pages in its cache."""

from __future__ import annotations

import pytest
from django.urls import reverse

from recognition import services
from recognition.models import Note
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ConsoleErrors, sign_in

pytestmark = pytest.mark.slow  # a browser, and one page recognized on the CPU

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2.625,
         "is_mobile": True, "has_touch": True}
SECRET = "Alice's private diary"


@pytest.fixture
def note(transactional_db, user, jpeg_upload):
    [note] = services.note_upload(user=user, files=[jpeg_upload()], title=SECRET)
    return Note.objects.get(pk=note.pk)


@pytest.fixture
def phone(chromium, live_server, client, transactional_db, user):
    """A page on an emulated phone, signed in as alice; console errors fail the test."""
    client.force_login(user)
    context = chromium.new_context(**PHONE, service_workers="allow")
    yield from signed_in_page(context, live_server, client)


@pytest.fixture
def installed_phone(chromium, live_server, client, transactional_db, user, tmp_path):
    """As `phone`, in a browser profile on disk: Chromium installs no app from an incognito
    context (`browser.new_context()` makes one), and says so ("in-incognito")."""
    client.force_login(user)
    context = chromium.browser_type.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS, **PHONE,
        service_workers="allow")
    yield from signed_in_page(context, live_server, client)


def signed_in_page(context, live_server, client):
    sign_in(context, live_server.url, client)
    page, errors = context.new_page(), ConsoleErrors()
    errors.watch(page)
    page.errors = errors
    yield page
    context.close()
    assert errors.found == []


def controlled(page) -> None:
    """Waits until the service worker is active and controls the page (after a reload)."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("!!navigator.serviceWorker.controller"):
        page.reload()
    assert page.evaluate("!!navigator.serviceWorker.controller")


def cached_urls(page) -> list[str]:
    return page.evaluate("""async () => {
        const urls = [];
        for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
        }
        return urls;
    }""")


def test_no_installability_errors_on_home_note_and_capture_pages(live_server, installed_phone,
                                                                 note):
    page = installed_phone
    cdp = page.context.new_cdp_session(page)
    for name, args in (("recognition:home", []), ("recognition:note", [note.pk]),
                       ("recognition:capture", [])):
        page.goto(live_server.url + reverse(name, args=args))
        controlled(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"] == live_server.url + "/manifest.webmanifest"
        assert manifest.get("errors") == [], manifest["errors"]
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == [], name


def test_service_worker_registers_for_the_whole_site(live_server, phone):
    page = phone
    page.goto(live_server.url + reverse("recognition:home"))
    controlled(page)
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == live_server.url + "/"


def test_pages_without_network_show_the_offline_page(live_server, phone, note):
    page = phone
    page.goto(live_server.url + reverse("recognition:home"))
    controlled(page)
    page.context.set_offline(True)
    url = live_server.url + reverse("recognition:note", args=[note.pk])
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")
    expect(page.locator("body")).not_to_contain_text(SECRET)
    page.context.set_offline(False)


def test_the_cache_holds_no_page_image_or_answer_of_the_user(live_server, phone, note):
    page = phone
    page.goto(live_server.url + reverse("recognition:home"))
    controlled(page)
    for url in (reverse("recognition:note", args=[note.pk]), reverse("recognition:home"),
                reverse("recognition:capture"), reverse("recognition:collections")):
        page.goto(live_server.url + url)
        page.wait_for_load_state("networkidle")
    page.evaluate(f"fetch('{reverse('recognition:note-status', args=[note.pk])}')")
    urls = cached_urls(page)
    assert urls, "the shell was not cached"
    paths = [u.removeprefix(live_server.url) for u in urls]
    assert all(p.startswith("/static/") or p == "/offline/" for p in paths), paths
    offline_copy = page.evaluate("""async () => {
        for (const name of await caches.keys()) {
            const hit = await (await caches.open(name)).match('/offline/');
            if (hit) return hit.text();
        }
        return '';
    }""")
    assert "You are offline" in offline_copy
    assert "alice" not in offline_copy and "Log out" not in offline_copy  # fetched signed out


def test_requests_the_worker_leaves_alone_reach_the_network(live_server, phone, note):
    """A note's JSON status is not answered by the worker (nor cached): the page's request
    goes to the server as without one (and Playwright still sees its response)."""
    page = phone
    page.goto(live_server.url + reverse("recognition:note", args=[note.pk]))
    controlled(page)
    status_url = reverse("recognition:note-status", args=[note.pk])
    with page.expect_response(lambda r: r.url.endswith(status_url)) as answer:
        page.evaluate(f"fetch('{status_url}', {{headers: {{Accept: 'application/json'}}}})")
    assert answer.value.status == 200 and not answer.value.from_service_worker
    assert answer.value.json()["status"] == "done"
