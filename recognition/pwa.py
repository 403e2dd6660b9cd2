"""The installable web app: its manifest, its service worker and the page shown offline.

All three are served from the site root (a service worker controls only the paths under its
own URL's folder) and hold nothing of any user: the same bytes for everyone, signed in or not.

The service worker (templates/pwa/sw.js) precaches the shell (our CSS, scripts, icons and the
offline page), answers navigations from the network with the offline page as fallback, and
serves static files from its cache. It never stores a page, JSON answer or image of a user's
notes: on a shared phone the next person must not find them there. The shell's URLs come from
`static()` at request time, so in production they are the hashed names of the manifest storage
and the worker's cache is renewed whenever one of the files changes.
"""

from __future__ import annotations

import hashlib
import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import get_template, render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

NAME = "Notes digitizer"
SHORT_NAME = "Notes"
DESCRIPTION = "Photograph handwritten notes; get searchable, editable text."
THEME_COLOR = "#2f5bd3"  # --accent of static/css/app.css, as base.html's theme-color
BACKGROUND_COLOR = "#f8f9fb"  # --bg
MANIFEST_TYPE = "application/manifest+json"
# The files every page needs, cached when the worker installs (the offline page is added).
SHELL_FILES = (
    "css/app.css", "css/capture.css", "js/toast.js", "js/pwa.js", "js/capture.js",
    "favicon.svg", "icons/icon-192.png", "icons/icon-512.png",
)
ICONS = (  # (file, size, purpose)
    ("icons/icon-192.png", 192, "any"),
    ("icons/icon-512.png", 512, "any"),
    ("icons/maskable-192.png", 192, "maskable"),
    ("icons/maskable-512.png", 512, "maskable"),
)


def _icon(name: str, size: int, purpose: str) -> dict:
    return {"src": static(name), "sizes": f"{size}x{size}", "type": "image/png",
            "purpose": purpose}


def manifest_data() -> dict:
    """The web app manifest: what a phone needs to install the site as an app."""
    return {
        "id": "/",
        "name": NAME,
        "short_name": SHORT_NAME,
        "description": DESCRIPTION,
        "lang": "en",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [_icon(*icon) for icon in ICONS],
        "shortcuts": [{
            "name": "Capture pages",
            "short_name": "Capture",
            "description": "Photograph several pages into one note",
            "url": reverse("recognition:capture"),
            "icons": [_icon("icons/icon-192.png", 192, "any")],
        }],
    }


def service_worker_config() -> dict:
    """What the worker's source is given: its cache's version, the shell's URLs, where static
    files are, and whether their names change with their content (hashed: cache first)."""
    shell = [static(name) for name in SHELL_FILES]
    static_prefix = static("")
    config = {
        "offline": reverse("offline"),
        "shell": shell,
        "static": static_prefix,
        "hashed": shell[0] != static_prefix + SHELL_FILES[0],
    }
    source = get_template("pwa/sw.js").template.source
    digest = hashlib.sha256((source + json.dumps(config, sort_keys=True)).encode()).hexdigest()
    return {**config, "version": digest[:12]}


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(manifest_data(), content_type=MANIFEST_TYPE,
                            json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The worker's script. Never cached by the browser's HTTP cache (it checks for a new
    worker at every navigation), and allowed to control the whole site."""
    source = render_to_string(
        "pwa/sw.js", {"config": mark_safe(json.dumps(service_worker_config(), indent=1))})
    response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """The page the worker shows when a page cannot be loaded. It caches it without cookies,
    so the copy it keeps is the anonymous one: nobody's name or notes."""
    return render(request, "offline.html")
