"""The editing pages: inline line saves, whole-text editing, history, diffs and reverts."""

import json
import re

import pytest
from django.urls import reverse

from recognition import revisions
from recognition.editing import ERROR_BAD_REQUEST
from recognition.models import Line, Page


@pytest.fixture
def lines(text_note):
    return list(Line.objects.filter(page__note=text_note).order_by("page__number", "order"))


def post_line(client, note, line, text, revision):
    return client.post(reverse("recognition:line-update", args=[note.pk, line.pk]),
                       json.dumps({"text": text, "revision": revision}),
                       content_type="application/json")


def test_line_save_returns_the_new_revision(alice_client, text_note, lines):
    response = post_line(alice_client, text_note, lines[0], "the quick red fox", 1)
    assert response.status_code == 200
    assert response.json() == {"revision": 2, "saved": True, "line": {
        "id": lines[0].pk, "text": "the quick red fox", "corrected": True}}


def test_stale_line_save_gets_409_with_the_current_text(alice_client, user, text_note, lines):
    revisions.lines_update(user=user, note=text_note, edits={lines[0].pk: "from a phone"},
                           base_revision=1)
    response = post_line(alice_client, text_note, lines[0], "from the laptop", 1)
    assert response.status_code == 409
    error = response.json()["error"]  # the API's conflict shape
    assert error["code"] == "conflict" and error["fields"] == {}
    assert error["current_revision"] == 2
    assert error["current_lines"] == {str(lines[0].pk): "from a phone"}
    assert "after you opened it" in error["message"]
    # "Keep mine": the same text again, based on the revision the conflict reported.
    assert post_line(alice_client, text_note, lines[0], "from the laptop", 2).status_code == 200


@pytest.mark.parametrize("body", ["not json", json.dumps({"text": "x"}),
                                  json.dumps({"text": 3, "revision": 1}),
                                  json.dumps({"text": "x", "revision": "one"})])
def test_malformed_line_saves_get_400(alice_client, text_note, lines, body):
    response = alice_client.post(reverse("recognition:line-update",
                                         args=[text_note.pk, lines[0].pk]),
                                 body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "invalid", "message": ERROR_BAD_REQUEST,
                                         "fields": {}}}


def test_a_line_of_another_note_is_404(alice_client, user, text_note, lines, jpeg_upload):
    from recognition import services

    [other] = services.note_upload(user=user, files=[jpeg_upload()])
    response = post_line(alice_client, other, lines[0], "x", 1)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.",
                                         "fields": {}}}


def test_a_line_of_another_users_note_is_404_json(bob_client, text_note, lines):
    response = post_line(bob_client, text_note, lines[0], "x", 1)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    lines[0].refresh_from_db()
    assert lines[0].text == "the quick brown fox"


def test_a_line_save_over_the_length_limit_gets_400(alice_client, text_note, lines, settings):
    settings.NOTES_MAX_LINE_CHARS = 2000
    response = post_line(alice_client, text_note, lines[0], "a" * 2001, 1)
    assert response.status_code == 400
    message = "Line 1 of page 1 is 2,001 characters long; a line may have at most 2,000."
    assert response.json() == {"error": {"code": "invalid", "message": message,
                                         "fields": {"text": [message]}}}
    lines[0].refresh_from_db()
    assert lines[0].text == "the quick brown fox" and text_note.revisions.count() == 1


def test_whole_text_edit_over_the_length_limit_shows_why(alice_client, text_note, settings):
    settings.NOTES_MAX_LINE_CHARS = 30
    response = alice_client.post(reverse("recognition:note-text", args=[text_note.pk]), {
        "revision": 1, "page-1": "the quick brown fox\n" + "b" * 31,
        "page-2": "second page here"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Line 2 of page 1 is 31 characters long; a line may have at most 30." in html
    assert "b" * 31 + "</textarea>" in html  # what was typed is kept, to shorten
    text_note.refresh_from_db()
    assert text_note.revision == 1 and "lazy dog" in text_note.text


def test_note_page_marks_doubtful_words_and_links_lines(alice_client, text_note, lines):
    line = lines[0]
    line.words = [
        {"text": "the", "confidence": 0.99, "alternatives": []},
        {"text": "quick", "confidence": 0.31,
         "alternatives": [{"text": "quick", "probability": 0.31},
                          {"text": "quiet", "probability": 0.29}]},
        {"text": "brown", "confidence": 0.9, "alternatives": []},
        {"text": "fox", "confidence": 0.95, "alternatives": []},
    ]
    line.save()
    html = alice_client.get(reverse("recognition:note", args=[text_note.pk])).content.decode()
    assert '<span class="doubt" title="31% sure; or: quiet">quick</span>' in html
    assert f'id="region-{line.pk}" data-line="{line.pk}"' in html
    assert reverse("recognition:line-update", args=[text_note.pk, line.pk]) in html
    assert 'data-revision="1"' in html


def test_whole_text_edit(alice_client, text_note, lines):
    url = reverse("recognition:note-text", args=[text_note.pk])
    page = alice_client.get(url).content.decode()
    assert "jumps over the lazy dog</textarea>" in page
    response = alice_client.post(url, {
        "revision": 1, "page-1": "the quick brown fox\njumps over the lazy cat",
        "page-2": "second page here"})
    assert response.status_code == 302
    text_note.refresh_from_db()
    assert text_note.revision == 2 and "lazy cat" in text_note.text


def test_whole_text_edit_of_another_page_keeps_lines_not_read(alice_client, text_note):
    page = text_note.pages.get(number=1)
    Page.objects.filter(pk=page.pk).update(partial=True, unread_lines=1)
    blank = Line.objects.create(page=page, order=2, text="", read=False,
                                polygon=[[0, 200], [900, 200], [900, 280], [0, 280]])
    url = reverse("recognition:note-text", args=[text_note.pk])
    html = alice_client.get(url).content.decode()
    assert "Blank lines are lines that were located but not read" in html
    # A browser drops the newline that follows <textarea>, and sends lines ended by CR LF.
    shown = re.search(r'name="page-1"[^>]*>\n(.*?)</textarea>', html, re.S).group(1)
    assert shown == "the quick brown fox\njumps over the lazy dog\n"
    response = alice_client.post(url, {"revision": 1, "page-1": shown.replace("\n", "\r\n"),
                                       "page-2": "second page, edited"})
    assert response.status_code == 302
    blank.refresh_from_db()
    assert blank.text == "" and not blank.read and blank.polygon
    assert Line.objects.filter(page=page).count() == 3


def test_whole_text_conflict_keeps_both_versions(alice_client, user, text_note, lines):
    revisions.lines_update(user=user, note=text_note, edits={lines[2].pk: "edited on page 2"},
                           base_revision=1)
    response = alice_client.post(reverse("recognition:note-text", args=[text_note.pk]), {
        "revision": 1, "page-1": "mine", "page-2": "my page two"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "after you opened it" in html
    assert "my page two</textarea>" in html and "edited on page 2</pre>" in html
    assert 'name="revision" value="2"' in html  # saving again now merges onto revision 2


def test_history_diff_and_revert(alice_client, user, text_note, lines):
    revisions.lines_update(user=user, note=text_note, edits={lines[1].pk: "jumps over a cat"},
                           base_revision=1)
    history = alice_client.get(reverse("recognition:note-history", args=[text_note.pk]))
    html = history.content.decode()
    assert "Line 2 of page 1 edited" in html and "alice" in html and "recognizer" in html

    diff = alice_client.get(reverse("recognition:revision", args=[text_note.pk, 2]))
    html = diff.content.decode()
    assert "<del>the lazy dog</del>" in html and "<ins>a cat</ins>" in html
    assert "1 line differs from revision 1" in html
    assert "onchange" not in html and "js/autosubmit.js" in html  # no inline handler (CSP)
    assert '<button type="submit" data-autosubmit-button>Compare</button>' in html

    response = alice_client.post(reverse("recognition:revision-revert", args=[text_note.pk, 1]),
                                 {"revision": 2})
    assert response.status_code == 302
    text_note.refresh_from_db()
    assert text_note.revision == 3 and "jumps over the lazy dog" in text_note.text


def test_revert_from_a_stale_page_is_refused(alice_client, user, text_note, lines):
    revisions.lines_update(user=user, note=text_note, edits={lines[1].pk: "x"}, base_revision=1)
    response = alice_client.post(reverse("recognition:revision-revert", args=[text_note.pk, 1]),
                                 {"revision": 1}, follow=True)
    assert "check the history and revert again" in response.content.decode()
    text_note.refresh_from_db()
    assert text_note.revision == 2
