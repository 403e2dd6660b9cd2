"""Structural corrections through the API: DELETE /lines/{id}/, POST /lines/{id}/split/,
merge/, move/, PATCH /lines/{id}/ with a polygon, and POST /notes/{id}/pages/{n}/lines/."""

import pytest

from recognition import revisions
from recognition.api.serializers import ERROR_TEXT_OR_POLYGON
from recognition.models import Line, Note, Page, Revision
from tests.api.conftest import assert_error

QUICK, LAZY = "the quick brown fox", "jumps over the lazy dog"


@pytest.fixture
def note(user):
    """A recognized one-page note of two lines, made directly (no recognition run)."""
    note = Note.objects.create(owner=user, collection=user.collections.create(name="Inbox"),
                               title="Lecture", kind="image", content_type="image/jpeg",
                               size=1, sha256="0", original="notes/x/original.jpg",
                               status="done", pages_total=1, pages_done=1)
    page = Page.objects.create(note=note, number=1, image="p1.jpg", width=1000, height=800,
                               recognized=True)
    for order, text in enumerate([QUICK, LAZY]):
        Line.objects.create(page=page, order=order, text=text, machine_text=text,
                            polygon=[[0, 100 * order], [900, 100 * order],
                                     [900, 100 * order + 80], [0, 100 * order + 80]])
    revisions.revision_record(note=note, kind=Revision.Kind.MACHINE, summary="Recognized")
    note.refresh_from_db()
    return note


def lines(note) -> list[Line]:
    return list(Line.objects.filter(page__note=note).order_by("order"))


def texts(body) -> list[str]:
    return [line["text"] for line in body["lines"]]


def test_delete_with_the_revision_in_the_body(api, note):
    first, second = lines(note)
    response = api.delete(f"/api/v1/lines/{first.pk}/", {"revision": 1}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["revision"], body["page"], texts(body)) == (2, 1, [LAZY])
    assert body["lines"][0]["id"] == second.pk and body["lines"][0]["order"] == 0
    assert set(body["lines"][0]) >= {"region", "corrected", "alternatives", "revision"}
    revision = note.revisions.get(number=2)
    assert (revision.kind, revision.summary) == ("edit", "Deleted line 1")


def test_delete_with_the_revision_in_the_query(api, note):
    response = api.delete(f"/api/v1/lines/{lines(note)[0].pk}/?revision=1")
    assert response.status_code == 200 and texts(response.json()) == [LAZY]


def test_delete_without_a_revision_is_400(api, note):
    error = assert_error(api.delete(f"/api/v1/lines/{lines(note)[0].pk}/"), 400, "invalid")
    assert "revision" in error["fields"] and len(lines(note)) == 2


def test_split(api, note):
    first = lines(note)[0]
    response = api.post(f"/api/v1/lines/{first.pk}/split/", {"revision": 1, "at": 9},
                        format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert texts(body) == ["the quick", "brown fox", LAZY] and body["revision"] == 2
    cut = round(900 * 9 / 19)
    assert body["lines"][0]["region"]["bbox"] == [0, 0, cut, 80]
    assert body["lines"][1]["region"]["bbox"] == [cut, 0, 900, 80]
    assert note.revisions.get(number=2).summary == "Split line 1"


def test_split_at_the_end_is_400_on_the_field(api, note):
    first = lines(note)[0]
    error = assert_error(api.post(f"/api/v1/lines/{first.pk}/split/",
                                  {"revision": 1, "at": 19}, format="json"), 400, "invalid")
    assert error["fields"] == {"at": [error["message"]]}
    assert error["message"].startswith("Line 1 has 19 characters")


def test_merge(api, note):
    first, second = lines(note)
    response = api.post(f"/api/v1/lines/{second.pk}/merge/", {"revision": 1, "with": first.pk},
                        format="json")
    assert response.status_code == 200, response.content
    [merged] = response.json()["lines"]
    assert merged["id"] == first.pk and merged["text"] == f"{QUICK} {LAZY}"
    assert merged["region"]["bbox"] == [0, 0, 900, 180] and merged["corrected"]
    assert not Line.objects.filter(pk=second.pk).exists()


def test_merge_with_an_unknown_line_is_400(api, note, other_user):
    response = api.post(f"/api/v1/lines/{lines(note)[0].pk}/merge/",
                        {"revision": 1, "with": 999999}, format="json")
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"with": ["This note has no line 999999."]}


def test_move(api, note):
    first, second = lines(note)
    response = api.post(f"/api/v1/lines/{first.pk}/move/", {"revision": 1, "to": 1},
                        format="json")
    assert response.status_code == 200 and texts(response.json()) == [LAZY, QUICK]
    assert note.revisions.get(number=2).summary == "Moved line 1 to place 2"


def test_insert(api, note):
    first = lines(note)[0]
    response = api.post(f"/api/v1/notes/{note.pk}/pages/1/lines/",
                        {"revision": 1, "after": first.pk, "text": "a missed line",
                         "polygon": [[0, 82], [600, 82], [600, 98], [0, 98]]}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert texts(body) == [QUICK, "a missed line", LAZY]
    assert body["lines"][1]["region"]["polygon"] == [[0, 82], [600, 82], [600, 98], [0, 98]]
    response = api.post(f"/api/v1/notes/{note.pk}/pages/1/lines/",
                        {"revision": 2, "text": "heading"}, format="json")
    assert response.status_code == 201 and texts(response.json())[0] == "heading"


def test_insert_after_a_line_of_another_page_is_400(api, note):
    error = assert_error(api.post(f"/api/v1/notes/{note.pk}/pages/1/lines/",
                                  {"revision": 1, "after": 999999, "text": "x"},
                                  format="json"), 400, "invalid")
    assert error["fields"] == {"after": ["Page 1 of this note has no line 999999."]}


def test_insert_on_a_missing_page_is_404(api, note):
    assert_error(api.post(f"/api/v1/notes/{note.pk}/pages/2/lines/",
                          {"revision": 1, "text": "x"}, format="json"), 404, "not_found")


def test_patch_a_polygon(api, note):
    first = lines(note)[0]
    response = api.patch(f"/api/v1/lines/{first.pk}/",
                         {"revision": 1, "polygon": [[0, -2], [1005, 0], [1000, 40.4]]},
                         format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["region"]["polygon"] == [[0, 0], [1000, 0], [1000, 40]]
    assert body["corrected"] and body["revision"] == 2 and body["text"] == QUICK


@pytest.mark.parametrize(("polygon", "message"), [
    ([[0, 0], [1, 1]], "The region has 2 points; it needs 3 to 2,000."),
    ([[0, 0], [10, 0], [10, 900]], "Point 3 of the region (10, 900) lies outside the page "
                                   "image (1000 × 800 pixels)."),
])
def test_patch_a_bad_polygon_is_400(api, note, polygon, message):
    first = lines(note)[0]
    error = assert_error(api.patch(f"/api/v1/lines/{first.pk}/",
                                   {"revision": 1, "polygon": polygon}, format="json"),
                         400, "invalid")
    assert error["fields"] == {"polygon": [message]}
    first.refresh_from_db()
    assert first.polygon[1] == [900, 0] and note.revisions.count() == 1


def test_patch_a_point_that_is_not_a_pair_is_400(api, note):
    error = assert_error(api.patch(f"/api/v1/lines/{lines(note)[0].pk}/",
                                   {"revision": 1, "polygon": [[0, 0, 0], [1, 1], [2, 0]]},
                                   format="json"), 400, "invalid")
    assert "polygon" in error["fields"]


def test_patch_text_and_polygon_together_is_400(api, note):
    error = assert_error(api.patch(f"/api/v1/lines/{lines(note)[0].pk}/",
                                   {"revision": 1, "text": "x",
                                    "polygon": [[0, 0], [9, 0], [9, 9]]}, format="json"),
                         400, "invalid")
    assert error["message"] == ERROR_TEXT_OR_POLYGON


def test_stale_structure_edit_is_409_with_the_page(api, user, note):
    first, second = lines(note)
    revisions.line_delete(user=user, note=note, line=first, base_revision=1)
    error = assert_error(api.post(f"/api/v1/lines/{second.pk}/split/",
                                  {"revision": 1, "at": 5}, format="json"), 409, "conflict")
    assert error["current_revision"] == 2 and error["current_lines"] == {str(second.pk): LAZY}
    assert_error(api.post(f"/api/v1/notes/{note.pk}/pages/1/lines/",
                          {"revision": 1, "text": "x"}, format="json"), 409, "conflict")
    assert_error(api.patch(f"/api/v1/lines/{second.pk}/",
                           {"revision": 0, "polygon": [[0, 0], [9, 0], [9, 9]]},
                           format="json"), 409, "conflict")
    assert [line.text for line in lines(note)] == [LAZY]


def test_structure_edit_of_a_busy_note_is_refused(api, note):
    Note.objects.filter(pk=note.pk).update(status="processing")
    error = assert_error(api.delete(f"/api/v1/lines/{lines(note)[0].pk}/?revision=1"), 400)
    assert error["message"] == revisions.ERROR_BUSY and len(lines(note)) == 2


@pytest.mark.parametrize(("method", "path", "body"), [
    ("delete", "lines/{line}/", {"revision": 1}),
    ("post", "lines/{line}/split/", {"revision": 1, "at": 3}),
    ("post", "lines/{line}/merge/", {"revision": 1, "with": "{other}"}),
    ("post", "lines/{line}/move/", {"revision": 1, "to": 1}),
    ("patch", "lines/{line}/", {"revision": 1, "polygon": [[0, 0], [9, 0], [9, 9]]}),
    ("post", "notes/{note}/pages/1/lines/", {"revision": 1, "text": "x"}),
])
def test_another_users_lines_are_404(bob_api, note, method, path, body):
    first, second = lines(note)
    url = "/api/v1/" + path.format(line=first.pk, note=note.pk)
    body = {k: second.pk if v == "{other}" else v for k, v in body.items()}
    assert_error(getattr(bob_api, method)(url, body, format="json"), 404, "not_found")
    assert [line.text for line in lines(note)] == [QUICK, LAZY]
    assert note.revisions.count() == 1
