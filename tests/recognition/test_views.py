"""The HTML pages of notes and collections, through the test client."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from recognition import services
from recognition.models import Collection, Line, Note, Tag
from tests.factories import CollectionFactory


@pytest.fixture
def note(user, jpeg_upload):
    return services.note_upload(user=user, files=[jpeg_upload("Monday.jpg")], tags=["work"])[0]


def test_anonymous_visitors_get_the_landing_page(client):
    response = client.get(reverse("recognition:home"))
    assert response.status_code == 200
    assert "recognition/home.html" not in [t.name for t in response.templates]
    assert f'href="{reverse("accounts:login")}"' in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in_from_pages_of_notes(client):
    response = client.get(reverse("recognition:collections"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_home_lists_notes_with_thumbnails_and_upload_form(alice_client, note):
    response = alice_client.get(reverse("recognition:home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Monday" in html and reverse("recognition:note-thumbnail", args=[note.pk]) in html
    assert 'type="file"' in html and "multiple" in html


def test_home_filters_by_tag(alice_client, user, note, jpeg_upload):
    services.note_upload(user=user, files=[jpeg_upload("Tuesday.jpg")], tags=["home"])
    html = alice_client.get(reverse("recognition:home"), {"tag": "work"}).content.decode()
    assert "Monday" in html and "Tuesday" not in html


def test_upload_several_files_in_one_post(alice_client, user, jpeg_upload, pdf_upload,
                                          django_capture_on_commit_callbacks):
    collection = CollectionFactory(owner=user, name="Lectures")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = alice_client.post(reverse("recognition:upload"), {
            "files": [jpeg_upload("a.jpg"), pdf_upload("b.pdf")], "collection": collection.pk,
            "tags": "physics, week 1", "note_date": "2026-11-02"})
    assert response.status_code == 302
    assert response["Location"] == reverse("recognition:collection", args=[collection.pk])
    notes = Note.objects.filter(owner=user).order_by("original_name")
    assert [n.original_name for n in notes] == ["a.jpg", "b.pdf"]
    assert all(n.collection == collection and str(n.note_date) == "2026-11-02" for n in notes)
    assert set(Tag.objects.filter(owner=user).values_list("name", flat=True)) == {
        "physics", "week 1"}
    assert len(callbacks) == 2  # one task enqueued per note, after the commit


def test_upload_by_script_gets_json(alice_client, jpeg_upload):
    response = alice_client.post(reverse("recognition:upload"), {"files": [jpeg_upload()]},
                                 HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    [pk] = response.json()["notes"]
    assert response.json()["redirect"] == reverse("recognition:note", args=[pk])


def test_bad_upload_shows_the_reason_and_saves_nothing(alice_client, media_root):
    response = alice_client.post(reverse("recognition:upload"), {
        "files": [SimpleUploadedFile("essay.docx", b"PK\x03\x04 not a picture")]})
    assert response.status_code == 415  # as the API answers it
    assert "“essay.docx” is not a supported file" in response.content.decode()
    assert not Note.objects.exists() and not any(media_root.rglob("*.*"))

    response = alice_client.post(reverse("recognition:upload"), {
        "files": [SimpleUploadedFile("essay.docx", b"PK\x03\x04")]},
        HTTP_ACCEPT="application/json")
    assert response.status_code == 415
    message = ("“essay.docx” is not a supported file. Upload JPEG, PNG, WebP, TIFF, BMP, "
               "HEIC/HEIF images or PDF documents.")
    assert response.json() == {"error": {"code": "unsupported_type", "message": message,
                                         "fields": {"files": [message]}}}


def test_upload_into_another_users_collection_is_refused(alice_client, other_user, jpeg_upload):
    theirs = CollectionFactory(owner=other_user)
    response = alice_client.post(reverse("recognition:upload"), {
        "files": [jpeg_upload()], "collection": theirs.pk})
    assert response.status_code == 400
    assert not Note.objects.exists()


def test_note_page_shows_status_and_lines_after_recognition(
        alice_client, user, jpeg_upload, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        [note] = services.note_upload(user=user, files=[jpeg_upload()])
    note.refresh_from_db()
    html = alice_client.get(reverse("recognition:note", args=[note.pk])).content.decode()
    assert "Done" in html and "<polygon" in html
    first_line = note.pages.get().lines.first()
    assert f'data-line="{first_line.pk}"' in html
    assert reverse("recognition:page-image", args=[note.pk, 1]) in html


def test_note_page_says_which_pages_were_only_partly_read(
        alice_client, user, pdf_upload, jpeg_upload, settings,
        django_capture_on_commit_callbacks):
    settings.NOTES_PAGE_SECONDS = 0  # no time to read any line: both pages partly read
    with django_capture_on_commit_callbacks(execute=True):
        [note] = services.note_upload(user=user, files=[pdf_upload(pages=2)])
    services.note_upload(user=user, files=[jpeg_upload("waiting.jpg")])  # not read yet
    note.refresh_from_db()
    assert note.status == Note.Status.DONE
    html = alice_client.get(reverse("recognition:note", args=[note.pk])).content.decode()
    unread = note.pages.get(number=2).unread_lines
    assert unread > 1
    assert (f'<p class="notice partial" id="partial-2" role="note">Page 2 was only partly read: '
            f"it took longer than the 0 s allowed per page, so {unread} lines were located but "
            "not read. Type them in, or recognize the note again.</p>") in html
    assert 'aria-describedby="partial-1"' in html and 'aria-describedby="partial-2"' in html
    lines = Line.objects.filter(page__note=note)
    assert html.count('<span class="unread-mark">not read</span>') == lines.count()
    assert html.count(' class="unread"/>') == lines.count()  # their regions on the image
    home = alice_client.get(reverse("recognition:home")).content.decode()
    assert home.count(">partly read</span>") == 1


def test_status_endpoint_reports_progress(alice_client, note):
    Note.objects.filter(pk=note.pk).update(status="processing", pages_done=1, pages_total=4)
    response = alice_client.get(reverse("recognition:note-status", args=[note.pk]))
    assert response.json() == {"status": "processing", "pages_done": 1, "pages_total": 4,
                               "progress": 25, "failure": ""}


def test_retry_queues_a_new_job(alice_client, note):
    Note.objects.filter(pk=note.pk).update(status="failed", error="boom")
    note.jobs.update(status="failed", error="boom")
    response = alice_client.post(reverse("recognition:note-recognize", args=[note.pk]))
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.status == "queued" and note.error == "" and note.jobs.count() == 2


def test_retry_of_a_busy_note_says_so(alice_client, note):
    response = alice_client.post(reverse("recognition:note-recognize", args=[note.pk]),
                                 follow=True)
    assert "already being recognized" in response.content.decode()
    assert note.jobs.count() == 1


def test_edit_note_title_collection_tags_and_date(alice_client, user, note):
    target = CollectionFactory(owner=user, name="Archive")
    response = alice_client.post(reverse("recognition:note-edit", args=[note.pk]), {
        "title": "Monday meeting", "collection": target.pk, "tags": "work, urgent",
        "note_date": "2026-01-05"})
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.title == "Monday meeting" and note.collection == target
    assert sorted(note.tags.values_list("name", flat=True)) == ["urgent", "work"]
    assert str(note.note_date) == "2026-01-05"


def test_delete_note_removes_its_files(alice_client, note, media_root,
                                      django_capture_on_commit_callbacks):
    assert any(media_root.rglob("*.jpg"))
    with django_capture_on_commit_callbacks(execute=True):  # files go once the rows are gone
        response = alice_client.post(reverse("recognition:note-delete", args=[note.pk]))
    assert response.status_code == 302
    assert not Note.objects.exists() and not any(media_root.rglob("*.jpg"))


def test_collections_create_rename_delete(alice_client, user, note, media_root,
                                          django_capture_on_commit_callbacks):
    response = alice_client.post(reverse("recognition:collections"), {"name": "Biology"})
    biology = Collection.objects.get(owner=user, name="Biology")
    assert response["Location"] == reverse("recognition:collection", args=[biology.pk])

    duplicate = alice_client.post(reverse("recognition:collections"), {"name": "Biology"})
    assert duplicate.status_code == 400

    alice_client.post(reverse("recognition:collection-rename", args=[biology.pk]),
                      {"name": "Bio 101"})
    biology.refresh_from_db()
    assert biology.name == "Bio 101"

    inbox = note.collection
    html = alice_client.get(reverse("recognition:collection", args=[inbox.pk])).content.decode()
    assert "Monday" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("recognition:collection-delete", args=[inbox.pk]))
    assert response.status_code == 302
    assert not Note.objects.exists() and not any(media_root.rglob("*.jpg"))


def test_files_are_served_to_their_owner(alice_client, note):
    thumbnail = alice_client.get(reverse("recognition:note-thumbnail", args=[note.pk]))
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/jpeg"
    assert thumbnail["Cache-Control"] == "private, max-age=3600"
    original = alice_client.get(reverse("recognition:note-original", args=[note.pk]))
    assert original.status_code == 200
    assert original["Content-Disposition"] == 'attachment; filename="Monday.jpg"'
    assert b"".join(original.streaming_content)[:3] == b"\xff\xd8\xff"
