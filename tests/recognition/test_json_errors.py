"""The HTML views' JSON answers report errors in the API's shape:
{"error": {"code", "message", "fields"}}."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from recognition.api.errors import ERROR_FIELDS
from recognition.models import Note
from tests.factories import CollectionFactory


def test_an_upload_of_several_bad_files_lists_each(alice_client, media_root):
    response = alice_client.post(reverse("recognition:upload"), {"files": [
        SimpleUploadedFile("essay.docx", b"PK\x03\x04"),
        SimpleUploadedFile("notes.txt", b"plain words")]}, HTTP_ACCEPT="application/json")
    assert response.status_code == 415
    error = response.json()["error"]
    problems = error["fields"]["files"]
    assert len(problems) == 2 and problems[0].startswith("“essay.docx” is not a supported")
    assert error["code"] == "unsupported_type" and error["message"] == " ".join(problems)
    assert not Note.objects.exists()


def test_an_upload_form_with_several_bad_fields_names_each(alice_client, other_user,
                                                          jpeg_upload):
    theirs = CollectionFactory(owner=other_user)
    response = alice_client.post(reverse("recognition:upload"), {
        "files": [jpeg_upload()], "collection": theirs.pk, "title": "t" * 201},
        HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["message"] == ERROR_FIELDS
    assert set(error["fields"]) == {"collection", "title"}
    assert not Note.objects.exists()


def test_status_of_another_users_note_is_a_json_404(bob_client, user):
    note = Note.objects.create(owner=user, collection=CollectionFactory(owner=user), title="x",
                               kind="image", content_type="image/jpeg", size=1, sha256="0",
                               original="o.jpg", status="done")
    response = bob_client.get(reverse("recognition:note-status", args=[note.pk]))
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.",
                                         "fields": {}}}


def test_status_of_a_failed_note_says_why_beside_its_state(alice_client, user):
    note = Note.objects.create(owner=user, collection=CollectionFactory(owner=user), title="x",
                               kind="image", content_type="image/jpeg", size=1, sha256="0",
                               original="o.jpg", status="failed", error="The page is blank.")
    body = alice_client.get(reverse("recognition:note-status", args=[note.pk])).json()
    assert body["status"] == "failed" and body["failure"] == "The page is blank."
    assert "error" not in body  # "error" is only ever a failed request
