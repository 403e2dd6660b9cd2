"""User B reaches none of user A's objects through the API, whatever id B tries.

The URLs come from the API's URLconf: a new endpoint with an id is covered (or fails here
until it is listed)."""

import pytest

from recognition import services
from recognition.models import Collection, Line, Note, PersonalModel, Tag
from tests.conftest import urls_for
from tests.factories import CollectionFactory

SECRET = "Alice's private diary"


@pytest.fixture
def alice_objects(user, jpeg_upload, django_capture_on_commit_callbacks):
    collection = CollectionFactory(owner=user, name="Alice's notebook")
    with django_capture_on_commit_callbacks(execute=True):
        [note] = services.note_upload(user=user, files=[jpeg_upload()], collection=collection,
                                      title=SECRET, tags=["secret"])
    note = Note.objects.get(pk=note.pk)
    return {"note": note, "collection": collection, "tag": Tag.objects.get(owner=user),
            "line": Line.objects.filter(page__note=note).first(), "job": note.jobs.get(),
            "model": PersonalModel.objects.create(owner=user, message=SECRET, file="x.pt",
                                                  status=PersonalModel.Status.PROMOTED)}


def detail_urls(objects) -> list[str]:
    note = objects["note"].pk
    args_by_name = {
        "collection-detail": [objects["collection"].pk], "tag-detail": [objects["tag"].pk],
        "note-detail": [note], "note-pages": [note], "note-retry": [note],
        "note-revisions": [note], "note-revert": [note, 1], "note-thumbnail": [note],
        "note-original": [note], "note-page-image": [note, 1],
        "line-detail": [objects["line"].pk], "job-detail": [objects["job"].pk],
        "line-crop": [objects["line"].pk], "note-export": [note],
        "line-split": [objects["line"].pk], "line-merge": [objects["line"].pk],
        "line-move": [objects["line"].pk], "note-page-lines": [note, 1],
        "personal-model-detail": [objects["model"].pk],
        "personal-model-use": [objects["model"].pk],
    }
    return urls_for("api", args_by_name)


@pytest.mark.parametrize("method", ["get", "post", "patch", "put", "delete"])
def test_another_user_gets_404_everywhere(bob_api, alice_objects, method):
    for url in detail_urls(alice_objects):
        response = getattr(bob_api, method)(url, {"name": "x", "text": "x", "revision": 1},
                                            format="json")
        assert response.status_code in (404, 405), (url, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert SECRET.encode() not in body
    note = Note.objects.get(pk=alice_objects["note"].pk)
    assert note.title == SECRET and note.revision == 1 and note.jobs.count() == 1
    assert Collection.objects.get(pk=alice_objects["collection"].pk).name == "Alice's notebook"
    assert Line.objects.get(pk=alice_objects["line"].pk).text == alice_objects["line"].text
    assert not PersonalModel.objects.filter(active=True).exists()


def test_lists_hold_only_ones_own(bob_api, alice_objects):
    line_text = alice_objects["line"].text
    for path in ["/api/v1/notes/", "/api/v1/collections/", "/api/v1/tags/", "/api/v1/jobs/",
                 "/api/v1/personal-models/",
                 f"/api/v1/search/?q={line_text}", "/api/v1/search/?q=diary"]:
        body = bob_api.get(path).json()
        assert body["count"] == 0 and SECRET not in str(body), path


def test_cannot_file_a_note_into_anothers_collection(bob_api, alice_objects, jpeg_upload):
    response = bob_api.post("/api/v1/notes/", {"file": [jpeg_upload()],
                                               "collection": alice_objects["collection"].pk},
                            format="multipart")
    assert response.status_code == 400
    mine = bob_api.get("/api/v1/collections/").json()
    assert mine["count"] == 0
