"""What a phone app does, end to end, through the API only; and the search and export
endpoints."""

import io
import time

import pytest
from PIL import Image
from pypdf import PdfReader

from recognition.models import Line
from tests.api.conftest import assert_error
from tests.conftest import PASSWORD


def test_register_upload_poll_read_fix_search_export(anon, jpeg_upload,
                                                     django_capture_on_commit_callbacks):
    app = anon
    registered = app.post("/api/v1/auth/register/", {
        "username": "dana", "email": "dana@example.org", "password": PASSWORD}, format="json")
    assert registered.status_code == 201
    token = app.post("/api/v1/auth/token/", {"username": "dana", "password": PASSWORD},
                     format="json").json()["token"]
    app.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    with django_capture_on_commit_callbacks(execute=True):  # the worker, inline in tests
        upload = app.post("/api/v1/notes/", {"file": [jpeg_upload("lecture.jpg")]},
                          format="multipart")
    assert upload.status_code == 202
    [note] = upload.json()["notes"]
    for _ in range(50):
        job = app.get(f"/api/v1/jobs/{note['job']}/").json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert job["status"] == "done" and job["progress"]["percent"] == 100

    detail = app.get(f"/api/v1/notes/{note['id']}/").json()
    line = detail["lines"][2]
    with django_capture_on_commit_callbacks(execute=True):  # the search index follows edits
        fixed = app.patch(f"/api/v1/lines/{line['id']}/", {
            "text": "Remember the zebrafish experiment", "revision": detail["revision"]},
            format="json")
    assert fixed.status_code == 200 and fixed.json()["corrected"]

    found = app.get("/api/v1/search/", {"q": "zebrafish"}).json()
    assert found["count"] == 1
    [hit] = found["results"]
    assert hit["line"] == line["id"] and hit["note"] == note["id"] and hit["match"] == "exact"
    assert "<mark>zebrafish</mark>" in hit["snippet"]
    start, end = hit["highlights"][0]
    assert hit["text"][start:end].lower() == "zebrafish"
    crop = app.get(hit["crop_url"])
    assert crop.status_code == 200
    assert Image.open(io.BytesIO(crop.content)).width > 50

    typo = app.get("/api/v1/search/", {"q": "zebrafsh"}).json()  # a typo in the query
    assert [h["line"] for h in typo["results"]] == [line["id"]]

    text = app.get(f"/api/v1/notes/{note['id']}/export/", {"format": "txt"})
    assert text.status_code == 200 and "zebrafish experiment" in text.content.decode()
    assert text["Content-Disposition"].startswith("attachment;")
    pdf = app.get(f"/api/v1/notes/{note['id']}/export/", {"format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf"
    assert "zebrafish" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()


def test_search_and_export_validation(api):
    assert_error(api.get("/api/v1/search/"), 400, "invalid")
    assert_error(api.get("/api/v1/search/", {"q": "x", "from": "yesterday"}), 400, "invalid")
    assert_error(api.get("/api/v1/search/", {"q": "x", "collection": 999}), 400, "invalid")
    assert_error(api.get("/api/v1/notes/1/export/", {"format": "txt"}), 404, "not_found")


@pytest.fixture
def unread_note(user, jpeg_upload):
    from recognition import services

    return services.note_upload(user=user, files=[jpeg_upload()])[0]  # queued, not read


def test_export_of_an_unread_note_is_a_conflict(api, unread_note):
    assert_error(api.get(f"/api/v1/notes/{unread_note.pk}/export/", {"format": "txt"}), 409)
    error = assert_error(api.get(f"/api/v1/notes/{unread_note.pk}/export/",
                                 {"format": "rtf"}), 400, "invalid")
    assert "format" in error["fields"]


def test_search_filters(api, user, jpeg_upload, django_capture_on_commit_callbacks):
    from recognition import services
    from tests.factories import CollectionFactory

    lab = CollectionFactory(owner=user, name="Lab")
    with django_capture_on_commit_callbacks(execute=True):
        [a] = services.note_upload(user=user, files=[jpeg_upload()], collection=lab,
                                   tags=["bio"])
        [b] = services.note_upload(user=user, files=[jpeg_upload()])
    word = Line.objects.filter(page__note=a).exclude(text="").first().text.split()[0]
    everywhere = api.get("/api/v1/search/", {"q": word}).json()["count"]
    in_lab = api.get("/api/v1/search/", {"q": word, "collection": lab.pk}).json()
    assert 0 < in_lab["count"] < everywhere
    assert {h["note"] for h in in_lab["results"]} == {a.pk}
    assert {h["note"] for h in api.get("/api/v1/search/", {"q": word, "tag": "bio"}).json()[
        "results"]} == {a.pk}
