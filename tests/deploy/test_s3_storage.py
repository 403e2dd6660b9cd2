"""Media on S3-compatible storage (moto's server on the loopback): uploads land in the
bucket, only their owner reads them, deleting a note deletes its objects."""

from django.urls import reverse

from recognition.models import Note
from tests.api.conftest import token_client
from tests.deploy.conftest import bucket_keys


def test_web_upload_stores_original_and_thumbnail_in_the_bucket(
        alice_client, s3_media, s3_client, jpeg_upload):
    upload = jpeg_upload("monday.jpg")
    response = alice_client.post(reverse("recognition:upload"), {"files": [upload]},
                                 HTTP_ACCEPT="application/json")

    assert response.status_code == 201, response.content[:300]
    note = Note.objects.get(pk=response.json()["notes"][0])
    assert bucket_keys(s3_client, s3_media) == {note.original.name, note.thumbnail.name}
    stored = s3_client.get_object(Bucket=s3_media, Key=note.original.name)["Body"].read()
    upload.seek(0)
    assert stored == upload.read()


def test_owner_downloads_files_from_the_bucket_and_others_get_404(
        user, other_user, s3_media, jpeg_upload, alice_client, bob_client):
    api = token_client(user)
    upload = jpeg_upload("monday.jpg")
    response = api.post("/api/v1/notes/", {"file": [upload]}, format="multipart")
    assert response.status_code == 202, response.content[:300]
    pk = response.json()["notes"][0]["id"]

    original = api.get(f"/api/v1/notes/{pk}/original/")
    upload.seek(0)
    assert original.status_code == 200
    assert b"".join(original.streaming_content) == upload.read()
    thumbnail = alice_client.get(reverse("recognition:note-thumbnail", args=[pk]))
    assert thumbnail.status_code == 200
    assert b"".join(thumbnail.streaming_content)[:2] == b"\xff\xd8"  # a JPEG

    bob_api = token_client(other_user)
    assert bob_api.get(f"/api/v1/notes/{pk}/original/").status_code == 404
    assert bob_api.get(f"/api/v1/notes/{pk}/thumbnail/").status_code == 404
    assert bob_client.get(reverse("recognition:note-original", args=[pk])).status_code == 404


def test_recognized_note_deleted_takes_its_objects_with_it(
        user, s3_media, s3_client, jpeg_upload, django_capture_on_commit_callbacks):
    api = token_client(user)
    with django_capture_on_commit_callbacks(execute=True):  # recognition runs inline
        response = api.post("/api/v1/notes/", {"file": [jpeg_upload()]}, format="multipart")
    note = Note.objects.get(pk=response.json()["notes"][0]["id"])
    assert note.status == Note.Status.DONE, note.error
    page_image = note.pages.get().image.name
    assert bucket_keys(s3_client, s3_media) == {
        note.original.name, note.thumbnail.name, page_image}
    image = api.get(f"/api/v1/notes/{note.pk}/pages/1/image/")
    assert image.status_code == 200 and b"".join(image.streaming_content)[:2] == b"\xff\xd8"

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/notes/{note.pk}/").status_code == 204

    assert bucket_keys(s3_client, s3_media) == set()
    assert not Note.objects.filter(pk=note.pk).exists()
