"""/api/v1/notes/, lines/, jobs/, collections/, tags/: happy paths, validation, filters."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from recognition import revisions, services
from recognition.models import Line, Note
from tests.api.conftest import assert_error
from tests.conftest import encode
from tests.factories import CollectionFactory


@pytest.fixture
def recognized(user, jpeg_upload, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        [note] = services.note_upload(user=user, files=[jpeg_upload("monday.jpg")],
                                      tags=["work"])
    return Note.objects.get(pk=note.pk)


def upload(api, *files, **fields):
    return api.post("/api/v1/notes/", {"file": list(files), **fields}, format="multipart")


# Upload ----------------------------------------------------------------------------------------

def test_upload_answers_202_with_notes_and_jobs(api, user, jpeg_upload, pdf_upload,
                                               django_capture_on_commit_callbacks):
    collection = CollectionFactory(owner=user)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = upload(api, jpeg_upload("a.jpg"), pdf_upload("b.pdf"),
                          collection=collection.pk, tags="x, y", title="Week 1")
    assert response.status_code == 202
    notes = response.json()["notes"]
    assert [n["original_name"] for n in notes] == ["a.jpg", "b.pdf"]
    assert all(n["status"] == "queued" and n["job"] and n["collection"] == collection.pk
               for n in notes)
    assert notes[1]["progress"] == {"pages_done": 0, "pages_total": 2, "percent": 0}
    assert sorted(notes[0]["tags"]) == ["x", "y"]
    # One title for a batch: each note's title tells its file apart.
    assert [n["title"] for n in notes] == ["Week 1 – a", "Week 1 – b"]
    assert notes[0]["thumbnail_url"].startswith("http://testserver/api/v1/notes/")
    assert len(queued) == 2


def test_upload_errors_have_their_status(api, page_image, settings, media_root):
    error = assert_error(upload(api, SimpleUploadedFile("x.txt", b"hello")), 415,
                         "unsupported_type")
    assert error["fields"]["file"] == [
        "“x.txt” is not a supported file. Upload JPEG, PNG, WebP, TIFF, BMP, HEIC/HEIF images "
        "or PDF documents."]
    data = encode(page_image, "JPEG")
    assert_error(upload(api, SimpleUploadedFile("cut.jpg", data[: len(data) // 2])), 400)
    settings.NOTES_MAX_UPLOAD_BYTES = 1000
    big = SimpleUploadedFile("big.png", encode(page_image, "PNG"))
    assert_error(upload(api, big), 413, "too_large")
    assert_error(api.post("/api/v1/notes/", {}, format="multipart"), 400, "invalid")
    assert not Note.objects.exists() and not any(media_root.rglob("*.*"))


def test_upload_into_another_users_collection_is_invalid(api, other_user, jpeg_upload):
    theirs = CollectionFactory(owner=other_user)
    error = assert_error(upload(api, jpeg_upload(), collection=theirs.pk), 400, "invalid")
    assert "collection" in error["fields"]


# Reading ---------------------------------------------------------------------------------------

def test_detail_has_text_and_lines_in_reading_order(api, recognized):
    body = api.get(f"/api/v1/notes/{recognized.pk}/").json()
    assert body["status"] == "done" and body["revision"] == 1 and body["text"]
    lines = body["lines"]
    assert len(lines) >= 5 and [line["order"] for line in lines] == list(range(len(lines)))
    line = lines[0]
    assert set(line) == {"id", "page", "order", "text", "machine_text", "confidence",
                         "corrected", "read", "revision", "region", "alternatives"}
    x0, y0, x1, y1 = line["region"]["bbox"]
    assert x0 < x1 and y0 < y1 and len(line["region"]["polygon"]) >= 4
    assert all({"word", "confidence", "readings"} == set(w) for w in line["alternatives"])
    assert all(line["read"] for line in lines) and body["partial"] is False
    [page] = body["pages"]
    assert (page["number"], page["partial"], page["unread_lines"]) == (1, False, 0)
    assert "lines" not in page and page["image_url"].endswith(f"/{recognized.pk}/pages/1/image/")


def test_a_page_out_of_time_is_partial_with_its_unread_lines(
        api, user, jpeg_upload, settings, django_capture_on_commit_callbacks):
    settings.NOTES_PAGE_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        [note] = services.note_upload(user=user, files=[jpeg_upload()])
    body = api.get(f"/api/v1/notes/{note.pk}/").json()
    assert body["status"] == "done" and body["partial"] is True and body["text"] == ""
    [page] = body["pages"]
    assert page["partial"] is True and page["unread_lines"] == len(body["lines"]) > 0
    assert all(not line["read"] and line["text"] == "" and line["region"]["polygon"]
               for line in body["lines"])
    [full] = api.get(body["pages_url"]).json()
    assert (full["partial"], full["unread_lines"]) == (True, page["unread_lines"])
    [listed] = api.get("/api/v1/notes/").json()["results"]
    assert listed["partial"] is True


def test_pages_and_files(api, recognized):
    [page] = api.get(f"/api/v1/notes/{recognized.pk}/pages/").json()
    assert page["number"] == 1 and page["lines"]
    image = api.get(page["image_url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(b"".join(image.streaming_content))).size == (
        page["width"], page["height"])
    thumbnail = api.get(f"/api/v1/notes/{recognized.pk}/thumbnail/", HTTP_ACCEPT="image/*")
    assert thumbnail.status_code == 200
    original = api.get(f"/api/v1/notes/{recognized.pk}/original/")
    assert original["Content-Disposition"] == 'attachment; filename="monday.jpg"'
    assert_error(api.get(f"/api/v1/notes/{recognized.pk}/pages/9/image/"), 404, "not_found")


def test_list_is_paginated_filtered_and_ordered(api, user, jpeg_upload):
    lectures = CollectionFactory(owner=user, name="Lectures")
    for i in range(3):
        services.note_upload(user=user, files=[jpeg_upload(f"n{i}.jpg")], collection=lectures,
                             tags=["exam"] if i == 1 else [])
    services.note_upload(user=user, files=[jpeg_upload("inbox.jpg")])
    page = api.get("/api/v1/notes/", {"page_size": 2}).json()
    assert set(page) == {"count", "next", "previous", "results"} and page["count"] == 4
    assert len(page["results"]) == 2 and "page=2" in page["next"] and page["previous"] is None
    assert api.get("/api/v1/notes/", {"collection": lectures.pk}).json()["count"] == 3
    assert [n["title"] for n in api.get("/api/v1/notes/", {"tag": "exam"}).json()["results"]] \
        == ["n1"]
    titles = [n["title"] for n in api.get("/api/v1/notes/", {"ordering": "title"}).json()[
        "results"]]
    assert titles == sorted(titles)
    assert api.get("/api/v1/notes/", {"status": "done"}).json()["count"] == 0
    assert_error(api.get("/api/v1/notes/", {"status": "bogus"}), 400, "invalid")
    assert_error(api.get("/api/v1/notes/", {"page": 99}), 404, "not_found")


# Changing --------------------------------------------------------------------------------------

def test_update_and_delete_a_note(api, user, recognized, django_capture_on_commit_callbacks):
    archive = CollectionFactory(owner=user, name="Archive")
    response = api.patch(f"/api/v1/notes/{recognized.pk}/", {
        "title": "Monday meeting", "collection": archive.pk, "tags": ["a", "b"]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["collection"], sorted(body["tags"])) == (
        "Monday meeting", archive.pk, ["a", "b"])
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/notes/{recognized.pk}/").status_code == 204
    assert not Note.objects.exists()


def test_retry_and_busy(api, recognized, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post(f"/api/v1/notes/{recognized.pk}/retry/")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    job = api.get(f"/api/v1/jobs/{response.json()['id']}/").json()
    assert job["note"] == recognized.pk and job["note_status"] == "queued"
    assert_error(api.post(f"/api/v1/notes/{recognized.pk}/retry/"), 409, "busy")


def test_line_patch_and_stale_revision_conflict(api, user, recognized):
    line = Line.objects.filter(page__note=recognized).first()
    response = api.patch(f"/api/v1/lines/{line.pk}/", {"text": "Fixed", "revision": 1},
                         format="json")
    assert response.status_code == 200
    assert response.json()["text"] == "Fixed" and response.json()["revision"] == 2
    assert response.json()["corrected"]

    error = assert_error(api.patch(f"/api/v1/lines/{line.pk}/", {"text": "Other", "revision": 1},
                                   format="json"), 409, "conflict")
    assert error["current_revision"] == 2 and error["current_lines"] == {str(line.pk): "Fixed"}
    assert_error(api.patch(f"/api/v1/lines/{line.pk}/", {"text": "x"}, format="json"),
                 400, "invalid")


def test_revisions_and_revert(api, user, recognized):
    line = Line.objects.filter(page__note=recognized).first()
    revisions.lines_update(user=user, note=recognized, edits={line.pk: "edited"},
                           base_revision=1)
    history = api.get(f"/api/v1/notes/{recognized.pk}/revisions/").json()
    assert [r["number"] for r in history["results"]] == [2, 1]
    assert history["results"][0]["author"] == "alice" and history["results"][1]["author"] is None
    assert history["results"][0]["text"] == recognized.text.replace(line.text, "edited", 1)
    assert history["results"][1]["text"] == recognized.text
    reverted = api.post(f"/api/v1/notes/{recognized.pk}/revisions/1/revert/", {"revision": 2},
                        format="json")
    assert reverted.status_code == 200 and reverted.json()["revision"] == 3
    assert_error(api.post(f"/api/v1/notes/{recognized.pk}/revisions/1/revert/",
                          {"revision": 2}, format="json"), 409, "conflict")
    assert_error(api.post(f"/api/v1/notes/{recognized.pk}/revisions/9/revert/",
                          {"revision": 3}, format="json"), 404)


def test_collections_and_tags(api, user, recognized):
    created = api.post("/api/v1/collections/", {"name": "Biology"}, format="json")
    assert created.status_code == 201 and created.json()["note_count"] == 0
    assert_error(api.post("/api/v1/collections/", {"name": "Biology"}, format="json"), 400)
    pk = created.json()["id"]
    assert api.patch(f"/api/v1/collections/{pk}/", {"name": "Bio"}, format="json").json()[
        "name"] == "Bio"
    listed = api.get("/api/v1/collections/").json()
    assert [c["name"] for c in listed["results"]] == ["Bio", "Inbox"]
    assert api.delete(f"/api/v1/collections/{pk}/").status_code == 204

    tags = api.get("/api/v1/tags/").json()["results"]
    assert tags == [{"id": tags[0]["id"], "name": "work", "note_count": 1}]
    assert api.patch(f"/api/v1/tags/{tags[0]['id']}/", {"name": "job"}, format="json").json()[
        "name"] == "job"
    assert api.delete(f"/api/v1/tags/{tags[0]['id']}/").status_code == 204
    assert not recognized.tags.exists()


def test_jobs_list_is_the_users(api, bob_api, recognized):
    assert api.get("/api/v1/jobs/").json()["count"] == 1
    assert bob_api.get("/api/v1/jobs/").json()["count"] == 0
