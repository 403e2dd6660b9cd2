"""Structural corrections (issue 12): delete, insert, split, merge, move and re-draw lines,
as services (revisions, reverts, search, conflicts, re-recognition) and as the note page's
JSON endpoints."""

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from recognition import revisions, selectors, services
from recognition.editing import ERROR_BAD_STRUCTURE, STRUCTURE_BODIES
from recognition.exceptions import RecognitionAppError
from recognition.models import Line, Note, Revision, SearchLine, SearchWord
from recognition.regions import RegionInvalid
from recognition.revisions import EditInvalid, RevisionConflict
from recognition.search import index
from recognition.search.query import search

QUICK, LAZY, SECOND = "the quick brown fox", "jumps over the lazy dog", "second page here"
# The fixture's first line: a 900 × 80 box at the top left of a 1000 × 1000 page.
FIRST_BOX = [[0, 0], [900, 0], [900, 80], [0, 80]]


@pytest.fixture
def note(text_note):
    index.note_index(note_id=text_note.pk)  # as the signal would have, after the fixture
    return text_note


def page_lines(note, number: int = 1) -> list[Line]:
    return list(Line.objects.filter(page__note=note, page__number=number).order_by("order"))


def texts(note, number: int = 1) -> list[str]:
    return [line.text for line in page_lines(note, number)]


def diff_kinds(note, number: int) -> list[tuple[str, str, str]]:
    old, new = (selectors.revision_lines(note=note, number=n) for n in (number - 1, number))
    return [(row.kind, row.old, row.new) for row in selectors.revision_diff(old, new)
            if row.kind != "same"]


def revert(user, note, number: int) -> Revision:
    note.refresh_from_db()
    return revisions.revision_revert(user=user, note=note, number=number,
                                     base_revision=note.revision)


def committed(capture, call):
    """Run a service and the on-commit hooks (the search index follows them)."""
    with capture(execute=True):
        return call()


# Services --------------------------------------------------------------------------------------

def test_delete_makes_one_edit_revision_and_a_revert_brings_the_line_back(user, note):
    first = page_lines(note)[0]
    revision = revisions.line_delete(user=user, note=note, line=first, base_revision=1)
    assert (revision.number, revision.kind, revision.author) == (2, "edit", user)
    assert revision.summary == "Deleted line 1 of page 1" and note.revisions.count() == 2
    assert [(line["text"], line["order"]) for line in selectors.revision_lines(
        note=note, number=2)] == [(LAZY, 0), (SECOND, 0)]
    assert [(line.text, line.order) for line in page_lines(note)] == [(LAZY, 0)]
    assert Note.objects.get(pk=note.pk).text == f"{LAZY}\n\n{SECOND}"
    assert diff_kinds(note, 2) == [("removed", QUICK, "")]

    reverted = revert(user, note, 1)
    assert reverted.number == 3 and reverted.kind == "revert"
    assert texts(note) == [QUICK, LAZY] and page_lines(note)[0].polygon == FIRST_BOX
    assert Note.objects.get(pk=note.pk).text == f"{QUICK}\n{LAZY}\n\n{SECOND}"


def test_a_deleted_lines_words_leave_the_search_index(user, note,
                                                      django_capture_on_commit_callbacks):
    first = page_lines(note)[0]
    assert [hit.text for hit in search(user, "quick")] == [QUICK]
    committed(django_capture_on_commit_callbacks, lambda: revisions.line_delete(
        user=user, note=note, line=first, base_revision=1))
    assert search(user, "quick") == []
    assert not SearchLine.objects.filter(line_id=first.pk).exists()
    assert not SearchWord.objects.filter(owner=user, word="quick").exists()


def test_insert_adds_a_corrected_line_with_a_clamped_region(user, note):
    first, second = page_lines(note)
    revision = revisions.line_insert(
        user=user, note=note, page=first.page, after=first, text="  a line\tmissed ",
        polygon=[[-5, 85], [500, 85], [500, 95.4], [0, 95]], base_revision=1)
    assert revision.summary == "Added line 2 of page 1" and revision.kind == "edit"
    lines = page_lines(note)
    assert [(line.text, line.order) for line in lines] == [
        (QUICK, 0), ("a line missed", 1), (LAZY, 2)]
    added = lines[1]
    assert added.corrected and added.polygon == [[0, 85], [500, 85], [500, 95], [0, 95]]
    assert added.revision == 2 and lines[2].pk == second.pk
    assert diff_kinds(note, 2) == [("added", "", "a line missed")]
    revert(user, note, 1)
    assert texts(note) == [QUICK, LAZY]


def test_insert_without_after_puts_the_line_first_without_a_region(user, note):
    page = page_lines(note)[0].page
    revisions.line_insert(user=user, note=note, page=page, after=None, text="Heading",
                          base_revision=1)
    assert texts(note) == ["Heading", QUICK, LAZY] and page_lines(note)[0].polygon == []


def test_insert_refuses_empty_and_too_long_text(user, note, settings):
    page = page_lines(note)[0].page
    with pytest.raises(EditInvalid, match="Type the text of the line to add.") as err:
        revisions.line_insert(user=user, note=note, page=page, after=None, text=" \t",
                              base_revision=1)
    assert err.value.field == "text"
    settings.NOTES_MAX_LINE_CHARS = 10
    with pytest.raises(revisions.LineTooLong, match="Line 1 of page 1 is 11 characters"):
        revisions.line_insert(user=user, note=note, page=page, after=None, text="a" * 11,
                              base_revision=1)
    assert note.revisions.count() == 1 and len(page_lines(note)) == 2


def test_split_cuts_text_and_region_and_a_revert_restores_the_single_line(user, note):
    first = page_lines(note)[0]
    first.words = [{"text": "the", "confidence": 0.9, "alternatives": []}]
    first.save()
    revision = revisions.line_split(user=user, note=note, line=first, at=9, base_revision=1)
    assert revision.summary == "Split line 1 of page 1" and revision.number == 2
    left, right, rest = page_lines(note)
    assert (left.pk, left.text, right.text, rest.text) == (first.pk, "the quick", "brown fox",
                                                           LAZY)
    assert [line.order for line in (left, right, rest)] == [0, 1, 2]
    assert left.corrected and right.corrected and left.words == [] == right.words
    cut = round(900 * 9 / 19)  # the 9th of 19 characters, along the box
    assert left.polygon == [[0, 0], [cut, 0], [cut, 80], [0, 80]]
    assert right.polygon == [[cut, 0], [900, 0], [900, 80], [cut, 80]]
    assert diff_kinds(note, 2) == [("changed", QUICK, "the quick"), ("added", "", "brown fox")]

    revert(user, note, 1)
    [whole, lazy] = page_lines(note)
    assert (whole.pk, whole.text, whole.polygon) == (first.pk, QUICK, FIRST_BOX)
    assert not Line.objects.filter(pk=right.pk).exists() and lazy.order == 1


def test_split_follows_the_baseline(user, note):
    first = page_lines(note)[0]
    first.baseline = [[100, 70], [700, 70]]
    first.save()
    revisions.line_split(user=user, note=note, line=first, at=10, base_revision=1)
    left, right, _ = page_lines(note)
    cut = round(100 + 600 * 10 / 19)
    assert left.polygon[1] == [cut, 0] and right.polygon[0] == [cut, 0]
    assert left.baseline == [[100, 70], [cut, 70]] and right.baseline == [[cut, 70], [700, 70]]


@pytest.mark.parametrize("at", [0, 19, 40, -1])
def test_split_must_leave_text_on_both_sides(user, note, at):
    message = "Line 1 of page 1 has 19 characters: split it at a place from 1 to 18"
    with pytest.raises(EditInvalid, match=message) as err:
        revisions.line_split(user=user, note=note, line=page_lines(note)[0], at=at,
                             base_revision=1)
    assert err.value.field == "at"
    assert note.revisions.count() == 1 and len(page_lines(note)) == 2


def test_merge_joins_two_adjacent_lines_and_their_regions(user, note,
                                                          django_capture_on_commit_callbacks):
    first, second = page_lines(note)
    revision = committed(django_capture_on_commit_callbacks, lambda: revisions.line_merge(
        user=user, note=note, line=second, with_line=first, base_revision=1))
    assert revision.summary == "Merged lines 1 and 2 of page 1"
    [merged] = page_lines(note)
    assert merged.pk == first.pk and merged.text == f"{QUICK} {LAZY}" and merged.corrected
    assert merged.polygon == [[0, 0], [900, 0], [900, 180], [0, 180]]
    assert not Line.objects.filter(pk=second.pk).exists()
    assert diff_kinds(note, 2) == [("changed", QUICK, f"{QUICK} {LAZY}"),
                                   ("removed", LAZY, "")]
    [hit] = search(user, '"fox jumps"')  # a phrase across the old lines' break
    assert hit.line_id == first.pk

    revert(user, note, 1)
    assert texts(note) == [QUICK, LAZY] and page_lines(note)[0].polygon == FIRST_BOX


def test_merge_needs_neighbours_on_one_page(user, note):
    first, second = page_lines(note)
    [other] = page_lines(note, 2)
    with pytest.raises(EditInvalid, match="Only lines next to each other on one page"):
        revisions.line_merge(user=user, note=note, line=first, with_line=other,
                             base_revision=1)
    revisions.line_insert(user=user, note=note, page=first.page, after=first, text="between",
                          base_revision=1)
    with pytest.raises(EditInvalid, match="Only lines next to each other on one page"):
        revisions.line_merge(user=user, note=note, line=first, with_line=second,
                             base_revision=2)
    with pytest.raises(EditInvalid, match="Only lines next to each other on one page"):
        revisions.line_merge(user=user, note=note, line=first, with_line=first,
                             base_revision=2)
    assert note.revisions.count() == 2


def test_move_changes_the_reading_order_and_reverts(user, note):
    first, second = page_lines(note)
    revision = revisions.line_move(user=user, note=note, line=second, to_index=0,
                                   base_revision=1)
    assert revision.summary == "Moved line 2 of page 1 to place 1"
    assert texts(note) == [LAZY, QUICK]
    assert Note.objects.get(pk=note.pk).text.startswith(f"{LAZY}\n{QUICK}")
    assert revisions.line_move(user=user, note=note, line=second, to_index=0,
                               base_revision=2) is None  # there already
    with pytest.raises(EditInvalid, match="Page 1 has 2 lines: move a line to a place from 0 "
                                          "to 1."):
        revisions.line_move(user=user, note=note, line=second, to_index=2, base_revision=2)
    revert(user, note, 1)
    assert texts(note) == [QUICK, LAZY] and note.revisions.count() == 3


def test_region_set_clamps_and_marks_the_line_corrected(user, note):
    first = page_lines(note)[0]
    revision = revisions.line_region_set(
        user=user, note=note, line=first, polygon=[[10, -3], [1010.4, 5], [990, 60.6]],
        base_revision=1)
    assert revision.summary == "Adjusted the region of line 1 of page 1"
    first.refresh_from_db()
    assert first.polygon == [[10, 0], [1000, 5], [990, 61]] and first.corrected
    assert revisions.line_region_set(user=user, note=note, line=first,
                                     polygon=[[10, 0], [1000, 5], [990, 61]],
                                     base_revision=2) is None
    revert(user, note, 1)
    first.refresh_from_db()
    assert first.polygon == FIRST_BOX and not first.corrected


@pytest.mark.parametrize(("polygon", "message"), [
    ([[0, 0], [10, 10]], "The region has 2 points; it needs 3 to 2,000."),
    ([[0, 0]] * 2001, "The region has 2,001 points; it needs 3 to 2,000."),
    ([[0, 0], [10, 0], [float("nan"), 5]], "Point 3 of the region is not a pair of finite"),
    ([[0, 0], [10, 0], [True, 5]], "Point 3 of the region is not a pair of finite numbers."),
    ([[0, 0], [10, 0], [5]], "Point 3 of the region is not a pair of finite numbers."),
    ([[0, 0], [10, 0], ["5", 5]], "Point 3 of the region is not a pair of finite numbers."),
    ([[0, 0], [1100, 0], [5, 5]], "Point 2 of the region (1100, 0) lies outside the page "
                                  "image (1000 × 1000 pixels)."),
    ([[0, 0], [10, 0], [20, 0]], "The region has no area: draw around the line."),
    ("0,0 1,1 2,2", "A region is a list of [x, y] points."),
])
def test_region_set_refuses_a_bad_polygon(user, note, polygon, message):
    first = page_lines(note)[0]
    with pytest.raises(RegionInvalid) as err:
        revisions.line_region_set(user=user, note=note, line=first, polygon=polygon,
                                  base_revision=1)
    assert str(err.value).startswith(message) and err.value.field == "polygon"
    first.refresh_from_db()
    assert first.polygon == FIRST_BOX and note.revisions.count() == 1


def test_a_structure_edit_on_a_page_changed_since_is_a_conflict(user, note):
    first, second = page_lines(note)
    revisions.line_delete(user=user, note=note, line=first, base_revision=1)
    with pytest.raises(RevisionConflict) as conflict:
        revisions.line_move(user=user, note=note, line=second, to_index=0, base_revision=1)
    assert conflict.value.current == 2 and conflict.value.lines == {second.pk: LAZY}
    with pytest.raises(RevisionConflict):
        revisions.line_insert(user=user, note=note, page=second.page, after=None, text="x",
                              base_revision=1)
    assert note.revisions.count() == 2 and texts(note) == [LAZY]


def test_a_split_of_a_line_edited_since_is_a_conflict(user, note):
    first = page_lines(note)[0]
    revisions.lines_update(user=user, note=note, edits={first.pk: "the slow red fox"},
                           base_revision=1)
    with pytest.raises(RevisionConflict) as conflict:
        revisions.line_split(user=user, note=note, line=first, at=3, base_revision=1)
    assert conflict.value.lines[first.pk] == "the slow red fox"
    assert texts(note) == ["the slow red fox", LAZY]


def test_edits_elsewhere_do_not_conflict_with_a_structure_edit(user, note):
    first, second = page_lines(note)
    [other] = page_lines(note, 2)
    revisions.lines_update(user=user, note=note, edits={other.pk: "page two"}, base_revision=1)
    revisions.lines_update(user=user, note=note, edits={second.pk: "lazy"}, base_revision=2)
    revision = revisions.line_split(user=user, note=note, line=first, at=9, base_revision=1)
    assert revision.number == 4 and texts(note) == ["the quick", "brown fox", "lazy"]


def test_structure_edits_are_refused_while_recognizing(user, note):
    first = page_lines(note)[0]
    Note.objects.filter(pk=note.pk).update(status="processing")
    with pytest.raises(RecognitionAppError, match=revisions.ERROR_BUSY):
        revisions.line_delete(user=user, note=note, line=first, base_revision=1)
    assert Line.objects.filter(pk=first.pk).exists() and note.revisions.count() == 1


def test_another_users_lines_are_refused(other_user, note):
    with pytest.raises(PermissionDenied):
        revisions.line_delete(user=other_user, note=note, line=page_lines(note)[0],
                              base_revision=1)
    assert len(page_lines(note)) == 2


def test_re_recognition_keeps_inserted_and_split_lines(user, jpeg_upload,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        [note] = services.note_upload(user=user, files=[jpeg_upload()])
    note = Note.objects.get(pk=note.pk)
    assert note.status == Note.Status.DONE, note.error
    line = next(line for line in page_lines(note) if len(line.text) > 6)
    at = line.text.index(" ", 2) if " " in line.text[2:-2] else 3
    halves = [line.text[:at].strip(), line.text[at:].strip()]
    revisions.line_split(user=user, note=note, line=line, at=at, base_revision=note.revision)
    note.refresh_from_db()
    revisions.line_insert(user=user, note=note, page=line.page, after=None,
                          text="typed in by a person", base_revision=note.revision)

    with django_capture_on_commit_callbacks(execute=True):
        services.note_recognize(user=user, note=note)
    note.refresh_from_db()

    assert note.status == Note.Status.DONE and note.jobs.count() == 2
    kept = {line.text: line for line in page_lines(note) if line.corrected}
    assert set(kept) == {*halves, "typed in by a person"}
    assert kept[halves[0]].pk == line.pk and kept[halves[0]].polygon
    assert all(text in note.text for text in kept)
    assert note.revisions.first().kind == "machine"
    # Reading order survives: the typed line first (inserted at the top), the halves together.
    order = [line.text for line in page_lines(note)]
    assert order[0] == "typed in by a person"
    assert order.index(halves[1]) == order.index(halves[0]) + 1


def test_re_recognition_does_not_bring_back_what_a_merge_joined(
        user, jpeg_upload, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        [note] = services.note_upload(user=user, files=[jpeg_upload()])
    note = Note.objects.get(pk=note.pk)
    first, second = page_lines(note)[:2]
    lines_before = len(page_lines(note))
    revisions.line_merge(user=user, note=note, line=first, with_line=second,
                         base_revision=note.revision)
    merged = Line.objects.get(pk=first.pk)

    with django_capture_on_commit_callbacks(execute=True):
        services.note_recognize(user=user, note=note)

    after = page_lines(note)
    assert len(after) == lines_before - 1  # the second line is not read again beside it
    assert after[0].pk == merged.pk and after[0].text == merged.text


# The note page's JSON endpoints ----------------------------------------------------------------

def post(client, name: str, args: list, body) -> "object":
    return client.post(reverse(f"recognition:{name}", args=args),
                       body if isinstance(body, str) else json.dumps(body),
                       content_type="application/json")


def line_url(name, note, line, **body):
    return name, [note.pk, line.pk], {"revision": 1, **body}


LINE_KEYS = {"id", "order", "text", "polygon", "baseline", "corrected", "confidence", "read",
             "words"}


def test_web_split_answers_the_page_lines(alice_client, note):
    first = page_lines(note)[0]
    response = post(alice_client, "line-split", [note.pk, first.pk], {"revision": 1, "at": 9})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["revision"], body["page"]) == (2, 1)
    assert [(line["order"], line["text"]) for line in body["lines"]] == [
        (0, "the quick"), (1, "brown fox"), (2, LAZY)]
    assert all(set(line) == LINE_KEYS for line in body["lines"])
    assert body["lines"][0]["id"] == first.pk and body["lines"][1]["corrected"] is True


@pytest.mark.parametrize(("name", "extra", "expected"), [
    ("line-delete", {}, [LAZY]),
    ("line-merge", {"with": "second"}, [f"{QUICK} {LAZY}"]),
    ("line-move", {"to": 1}, [LAZY, QUICK]),
    ("line-region", {"polygon": [[0, 0], [500, 0], [500, 90]]}, [QUICK, LAZY]),
])
def test_web_structure_edits(alice_client, note, name, extra, expected):
    first, second = page_lines(note)
    extra = {k: second.pk if v == "second" else v for k, v in extra.items()}
    response = post(alice_client, name, [note.pk, first.pk], {"revision": 1, **extra})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["revision"] == 2 and [line["text"] for line in body["lines"]] == expected
    assert texts(note) == expected and note.revisions.get(number=2).kind == "edit"


def test_web_insert(alice_client, note):
    first = page_lines(note)[0]
    response = post(alice_client, "line-insert", [note.pk, 1],
                    {"revision": 1, "after": first.pk, "text": "missed",
                     "polygon": [[0, 85], [400, 85], [400, 98]]})
    assert response.status_code == 200, response.content
    lines = response.json()["lines"]
    assert [line["text"] for line in lines] == [QUICK, "missed", LAZY]
    assert lines[1]["polygon"] == [[0, 85], [400, 85], [400, 98]] and lines[1]["corrected"]
    response = post(alice_client, "line-insert", [note.pk, 2],
                    {"revision": 2, "after": None, "text": "top of page two"})
    assert response.status_code == 200
    assert texts(note, 2) == ["top of page two", SECOND]


def test_web_stale_structure_edit_is_409(alice_client, user, note):
    first, second = page_lines(note)
    revisions.line_delete(user=user, note=note, line=first, base_revision=1)
    response = post(alice_client, "line-move", [note.pk, second.pk], {"revision": 1, "to": 0})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict" and error["current_revision"] == 2
    assert error["current_lines"] == {str(second.pk): LAZY} and error["fields"] == {}


@pytest.mark.parametrize("name", ["line-delete", "line-split", "line-merge", "line-move",
                                  "line-region", "line-insert"])
def test_web_structure_edits_of_another_users_note_are_404(bob_client, note, name):
    first, second = page_lines(note)
    args = [note.pk, 1] if name == "line-insert" else [note.pk, first.pk]
    response = post(bob_client, name, args, {"revision": 1, "at": 3, "with": second.pk,
                                             "to": 1, "text": "x", "after": None,
                                             "polygon": [[0, 0], [9, 0], [9, 9]]})
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.",
                                         "fields": {}}}
    assert texts(note) == [QUICK, LAZY] and note.revisions.count() == 1


@pytest.mark.parametrize(("name", "kind", "body"), [
    ("line-split", "split", "not json"),
    ("line-split", "split", {"at": 3}),
    ("line-split", "split", {"revision": 1, "at": "3"}),
    ("line-merge", "merge", {"revision": 1}),
    ("line-move", "move", {"revision": 1, "to": True}),
    ("line-region", "region", {"revision": 1, "polygon": "0,0"}),
    ("line-insert", "insert", {"revision": 1}),
    ("line-insert", "insert", {"revision": 1, "text": "x", "after": "first"}),
])
def test_web_malformed_bodies_get_400(alice_client, note, name, kind, body):
    line = page_lines(note)[0]
    args = [note.pk, 1] if name == "line-insert" else [note.pk, line.pk]
    response = post(alice_client, name, args, body)
    assert response.status_code == 400
    message = ERROR_BAD_STRUCTURE.format(more=STRUCTURE_BODIES[kind])
    assert response.json() == {"error": {"code": "invalid", "message": message, "fields": {}}}
    assert note.revisions.count() == 1


def test_web_bad_polygon_names_the_field(alice_client, note):
    line = page_lines(note)[0]
    response = post(alice_client, "line-region", [note.pk, line.pk],
                    {"revision": 1, "polygon": [[0, 0], [5000, 0], [5, 5]]})
    assert response.status_code == 400
    message = ("Point 2 of the region (5000, 0) lies outside the page image "
               "(1000 × 1000 pixels).")
    assert response.json()["error"] == {"code": "invalid", "message": message,
                                        "fields": {"polygon": [message]}}


def test_web_merge_with_a_line_of_another_note_is_400(alice_client, user, note):
    other = Note.objects.create(owner=user, collection=note.collection, title="x",
                                kind="image", content_type="image/jpeg", size=1, sha256="0",
                                original="o", status="done")
    page = other.pages.create(number=1, image="p.jpg", width=10, height=10)
    stranger = Line.objects.create(page=page, order=0, polygon=[], text="elsewhere")
    response = post(alice_client, "line-merge", [note.pk, page_lines(note)[0].pk],
                    {"revision": 1, "with": stranger.pk})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "with": [f"This note has no line {stranger.pk}."]}


def test_web_structure_edit_of_a_busy_note_is_400(alice_client, note):
    Note.objects.filter(pk=note.pk).update(status="queued")
    response = post(alice_client, "line-delete", [note.pk, page_lines(note)[0].pk],
                    {"revision": 1})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == revisions.ERROR_BUSY
    assert len(page_lines(note)) == 2


def test_web_structure_edits_need_post_and_a_login(client_factory, alice_client, note):
    url = reverse("recognition:line-delete", args=[note.pk, page_lines(note)[0].pk])
    assert alice_client.get(url).status_code == 405
    response = client_factory().post(url, '{"revision": 1}', content_type="application/json")
    assert response.status_code == 302 and len(page_lines(note)) == 2
