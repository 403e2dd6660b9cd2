"""The installable web app: the manifest, the service worker's script and the offline page, the
same for everyone and holding nobody's notes."""

from __future__ import annotations

import json
import re

import pytest
from django.templatetags.static import static
from django.urls import reverse

from recognition import pwa

SW_URL = "/sw.js"
MANIFEST_URL = "/manifest.webmanifest"


def sw_config(source: str) -> dict:
    return json.loads(re.search(r"const CONFIG = (\{.*?\});", source, re.S).group(1))


def test_manifest_is_served_from_the_root_as_a_web_app_manifest(client):
    response = client.get(MANIFEST_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"


def test_manifest_describes_an_installable_app(client):
    manifest = client.get(MANIFEST_URL).json()
    assert (manifest["name"], manifest["short_name"]) == ("Notes digitizer", "Notes")
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/", "/",
                                                                               "standalone")
    assert manifest["theme_color"] == "#2f5bd3" and manifest["background_color"] == "#f8f9fb"
    assert [(i["src"], i["sizes"], i["purpose"]) for i in manifest["icons"]] == [
        (static("icons/icon-192.png"), "192x192", "any"),
        (static("icons/icon-512.png"), "512x512", "any"),
        (static("icons/maskable-192.png"), "192x192", "maskable"),
        (static("icons/maskable-512.png"), "512x512", "maskable"),
    ]


def test_manifest_has_a_shortcut_to_the_capture_page(client):
    [shortcut] = client.get(MANIFEST_URL).json()["shortcuts"]
    assert shortcut["url"] == reverse("recognition:capture") == "/capture/"
    assert shortcut["name"] == "Capture pages"


def test_manifest_and_worker_use_the_hashed_static_names(client, monkeypatch):
    monkeypatch.setattr(pwa, "static", lambda name: f"/static/{name}.0123abcd")
    icons = [icon["src"] for icon in client.get(MANIFEST_URL).json()["icons"]]
    assert icons[0] == "/static/icons/icon-192.png.0123abcd"
    config = sw_config(client.get(SW_URL).content.decode())
    assert "/static/css/app.css.0123abcd" in config["shell"] and config["hashed"] is True


def test_service_worker_is_served_from_the_root_with_its_headers(client):
    response = client.get(SW_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    assert response["Service-Worker-Allowed"] == "/"


def test_service_worker_precaches_the_shell_and_the_offline_page(client):
    config = sw_config(client.get(SW_URL).content.decode())
    assert config["offline"] == "/offline/" and config["static"] == static("")
    for name in ("css/app.css", "css/capture.css", "js/pwa.js", "js/capture.js",
                 "icons/icon-192.png"):
        assert static(name) in config["shell"]
    assert config["hashed"] is False  # plain names in tests: network first


def test_service_worker_version_changes_with_the_shell(client, monkeypatch):
    before = sw_config(client.get(SW_URL).content.decode())["version"]
    monkeypatch.setattr(pwa, "static", lambda name: f"/static/{name}.ffff")
    assert sw_config(client.get(SW_URL).content.decode())["version"] != before


def test_service_worker_is_the_same_for_everyone(client, alice_client):
    assert client.get(SW_URL).content == alice_client.get(SW_URL).content


def test_service_worker_source_caches_only_static_files_and_the_offline_page(client):
    """Privacy on shared phones: the only cache writes are the install's precache (fetched
    without cookies) and static files; pages are network-only with the offline page as
    fallback, and other requests (JSON, note images, the API) are not handled at all."""
    source = client.get(SW_URL).content.decode()
    assert source.count("cache.put(") == 1 and source.count("cache.addAll(") == 1
    keep = source[source.index("function keepStatic"):]
    keep = keep[:keep.index("\n}\n")]
    assert "cache.put(" in keep and "pathname.startsWith(CONFIG.static)" in keep
    assert 'credentials: "omit"' in source
    assert re.search(r'request\.mode === "navigate"\) \{\s*// [^\n]*\n\s*event\.respondWith\('
                     r"fetch\(request\)\.catch\(\(\) => offlinePage\(\)\)\);\s*return;", source)
    assert 'if (request.method !== "GET") return;' in source
    assert "indexedDB" not in source  # the upload queue is the pages' (pwa.js), not cached here


@pytest.mark.parametrize("url", [MANIFEST_URL, SW_URL, "/offline/"])
def test_pwa_files_need_no_login(client, url):
    assert client.get(url).status_code == 200


def test_offline_page_says_what_still_works(client):
    html = client.get(reverse("offline")).content.decode()
    assert "You are offline" in html and "upload by themselves" in html


def test_pwa_files_only_answer_get(alice_client):
    for url in (MANIFEST_URL, SW_URL, "/offline/"):
        assert alice_client.post(url).status_code == 405


def test_offline_and_capture_pages_keep_to_the_content_security_policy(client, alice_client):
    from tests.test_csp import assert_keeps_to_policy

    assert_keeps_to_policy(client.get(reverse("offline")))
    found = assert_keeps_to_policy(alice_client.get(reverse("recognition:capture")))
    assert static("js/capture.js") in found.script_sources
