"""The Content-Security-Policy: its header on HTML pages, and pages that keep to it (no inline
script, event handler or style), from our templates, the admin and the API docs page."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from recognition import services
from tests.factories import UserFactory

TEMPLATES = Path(settings.BASE_DIR) / "templates"
NONCE_ATTRIBUTE = 'nonce="{{ request.csp_nonce }}"'


class InlineCode(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' blocks: event handler attributes, style
    attributes, <style> elements, and <script> elements with content and without `nonce`."""

    def __init__(self, nonce: str | None = None):
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        self.found: list[str] = []
        self.script_sources: list[str] = []
        self._inline_script: str | None = None  # the open <script>'s tag, when inline

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        self.found += [f"<{tag} {name}=...>" for name in names
                       if name.startswith("on") or name == "style"]
        if tag == "style":
            self.found.append("<style>")
        if tag == "script":
            if "src" in names:
                self.script_sources.append(names["src"])
            elif names.get("type", "text/javascript") in ("text/javascript", "module") and (
                    self.nonce is None or names.get("nonce") != self.nonce):
                self._inline_script = self.get_starttag_text()

    def handle_data(self, data):
        if self._inline_script and data.strip():
            self.found.append(f"{self._inline_script} with code")
            self._inline_script = None

    def handle_endtag(self, tag):
        if tag == "script":
            self._inline_script = None


def inline_code(html: str, nonce: str | None = None) -> InlineCode:
    parser = InlineCode(nonce)
    parser.feed(html)
    return parser


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";"))}


def assert_keeps_to_policy(response) -> InlineCode:
    """The page has the header, and nothing in it that the header blocks."""
    assert response.status_code == 200
    directives = policy(response)
    nonces = [v.removeprefix("'nonce-").rstrip("'") for v in directives["script-src"]
              if v.startswith("'nonce-")]
    found = inline_code(response.content.decode(), nonces[0] if nonces else None)
    assert found.found == []
    # Same origin ('self'): a path on this site, not another host.
    assert all(src.startswith("/") and not src.startswith("//")
               for src in found.script_sources), found.script_sources
    return found


# The policy --------------------------------------------------------------------------------------

def test_html_pages_carry_the_policy(client):
    directives = policy(client.get(reverse("accounts:login")))
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]  # no nonce unless a page asks for one
    assert directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:", "blob:"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == directives["form-action"] == ["'self'"]


def test_no_template_has_inline_script_handler_or_style():
    offenders = {}
    for path in TEMPLATES.rglob("*.html"):
        # A nonce written by the template is the one allowed way to an inline script.
        found = inline_code(path.read_text(), nonce="{{ request.csp_nonce }}").found
        if found:
            offenders[str(path.relative_to(TEMPLATES))] = found
    assert offenders == {}


def test_the_scan_finds_what_the_policy_blocks():
    found = inline_code('<p style="color:red" onclick="go()"><select onchange="x()"></select>'
                        '<style>p{}</style><script>alert(1)</script><script src="/static/a.js">'
                        '</script><script type="application/json">{"a": 1}</script>').found
    assert found == ["<p style=...>", "<p onclick=...>", "<select onchange=...>", "<style>",
                     "<script> with code"]


# Pages ------------------------------------------------------------------------------------------

@pytest.fixture
def note(user, jpeg_upload, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        return services.note_upload(user=user, files=[jpeg_upload()], tags=["work"])[0]


@pytest.mark.parametrize("name", ["recognition:home", "recognition:upload",
                                  "recognition:collections", "recognition:search",
                                  "accounts:profile"])
def test_our_pages_keep_to_the_policy(alice_client, note, name):
    assert_keeps_to_policy(alice_client.get(reverse(name)))


def test_note_pages_keep_to_the_policy(alice_client, note):
    for url in (reverse("recognition:note", args=[note.pk]),
                reverse("recognition:note-edit", args=[note.pk]),
                reverse("recognition:collection", args=[note.collection_id])):
        found = assert_keeps_to_policy(alice_client.get(url))
        assert found.script_sources or "edit" in url  # the scripts are there, as files


def test_admin_pages_keep_to_the_policy(client, note):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    for url in ("/admin/", "/admin/recognition/note/",
                f"/admin/recognition/note/{note.pk}/change/", "/admin/recognition/tag/add/"):
        assert_keeps_to_policy(client.get(url))


def test_api_docs_script_runs_by_its_nonce(client):
    response = client.get(reverse("api-docs"))
    [nonce] = [v.removeprefix("'nonce-").rstrip("'") for v in policy(response)["script-src"]
               if v.startswith("'nonce-")]
    assert f'<script nonce="{nonce}">' in response.content.decode()
    found = assert_keeps_to_policy(response)
    assert [src.rsplit("/", 1)[1] for src in found.script_sources] == [  # the sidecar's files
        "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"]
    # A nonce is per response: a page copied from another does not run.
    assert policy(client.get(reverse("api-docs")))["script-src"] != policy(response)["script-src"]
