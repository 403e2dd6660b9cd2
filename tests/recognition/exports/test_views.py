"""The export downloads and the import page, over HTTP."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from recognition.exports.registry import FORMATS
from recognition.models import Note
from tests.recognition.exports.conftest import note_create


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_note_export_is_an_attachment(alice_client, note, name):
    response = alice_client.get(reverse("recognition:note-export", args=[note.pk, name]))
    assert response.status_code == 200
    fmt = FORMATS[name]
    expected = (f"Lecture notes-{name}.zip" if fmt.per_page
                else f"Lecture notes{fmt.extension}")
    assert response["Content-Disposition"] == f'attachment; filename="{expected}"'
    assert response["Content-Type"] == ("application/zip" if fmt.per_page else fmt.content_type)
    assert body(response)


def test_export_file_name_is_safe(alice_client, user, synthetic_pages):
    note = note_create(user, synthetic_pages[:1], title='../../etc/"passwd"\r\nX-Evil: 1 Ünï',
                       typed=False)
    response = alice_client.get(reverse("recognition:note-export", args=[note.pk, "txt"]))
    # No path, no quotes, no line break (no header injected); the rest kept, RFC 6266 style.
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''passwd_X-Evil_%201%20%C3%9Cn%C3%AF.txt")
    assert "X-Evil" not in response.headers


def test_unknown_format_is_404(alice_client, note):
    response = alice_client.get(reverse("recognition:note-export", args=[note.pk, "exe"]))
    assert response.status_code == 404


def test_another_users_note_and_collection_are_404(bob_client, note):
    for url in (reverse("recognition:note-export", args=[note.pk, "txt"]),
                reverse("recognition:collection-export", args=[note.collection_id, "txt"])):
        response = bob_client.get(url)
        assert response.status_code == 404
        assert b"Lecture" not in body(response)


def test_anonymous_visitors_are_sent_to_log_in(client, note):
    response = client.get(reverse("recognition:note-export", args=[note.pk, "pdf"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_note_without_pages_has_nothing_to_export(alice_client, user):
    note = Note.objects.create(owner=user, collection=user.collections.create(name="Inbox"),
                               title="Queued", kind="image", content_type="image/jpeg", size=1,
                               sha256="0", original="o.jpg")
    response = alice_client.get(reverse("recognition:note-export", args=[note.pk, "pdf"]),
                                follow=True)
    assert response.redirect_chain[-1][0] == reverse("recognition:note", args=[note.pk])
    assert "nothing to export yet" in response.content.decode()


def test_collection_export_has_one_file_per_note(alice_client, user, synthetic_pages, note):
    other = note_create(user, synthetic_pages[1:], title="Lecture notes", typed=False)
    response = alice_client.get(
        reverse("recognition:collection-export", args=[note.collection_id, "txt"]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="Inbox-txt.zip"'
    with zipfile.ZipFile(io.BytesIO(body(response))) as archive:
        files = {name: archive.read(name).decode() for name in archive.namelist()}
    # Two notes of one title: the second is told apart by its id.
    [suffixed] = set(files) - {"Lecture notes.txt"}
    assert suffixed in {f"Lecture notes ({note.pk}).txt", f"Lecture notes ({other.pk}).txt"}
    assert sorted(files.values()) == sorted([note.text + "\n", other.text + "\n"])


def test_collection_export_in_alto_carries_the_page_images(alice_client, note):
    response = alice_client.get(
        reverse("recognition:collection-export", args=[note.collection_id, "alto"]))
    with zipfile.ZipFile(io.BytesIO(body(response))) as archive:
        names = sorted(archive.namelist())
        assert archive.getinfo(names[1]).compress_type == zipfile.ZIP_STORED  # a JPEG
    assert names == ["Lecture notes-page-001.alto.xml", "Lecture notes-page-001.jpg",
                     "Lecture notes-page-002.alto.xml", "Lecture notes-page-002.jpg"]


def test_collection_export_as_pdf_has_a_pdf_per_note(alice_client, note):
    response = alice_client.get(
        reverse("recognition:collection-export", args=[note.collection_id, "pdf"]))
    with zipfile.ZipFile(io.BytesIO(body(response))) as archive:
        assert archive.namelist() == ["Lecture notes.pdf"]
        assert archive.read("Lecture notes.pdf").startswith(b"%PDF-")


def test_an_empty_collection_has_nothing_to_export(alice_client, user):
    collection = user.collections.create(name="Empty")
    response = alice_client.get(
        reverse("recognition:collection-export", args=[collection.pk, "txt"]))
    assert response.status_code == 302
    assert response["Location"] == reverse("recognition:collection", args=[collection.pk])


def test_import_page_shows_the_form(alice_client):
    response = alice_client.get(reverse("recognition:note-import"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="xml"' in html and 'name="image"' in html
    assert 'enctype="multipart/form-data"' in html


def test_import_page_makes_a_note(alice_client, user, note, synthetic_pages):
    from tests.recognition.exports.test_formats import export, xml_files

    files = xml_files(export(note, "page"))
    collection = user.collections.create(name="Archive")
    response = alice_client.post(reverse("recognition:note-import"), {
        "xml": SimpleUploadedFile("p1.xml", files["Lecture notes-page-001.page.xml"]),
        "image": SimpleUploadedFile("p1.jpg", files["Lecture notes-page-001.jpg"]),
        "collection": collection.pk, "title": "Imported"})
    imported = Note.objects.get(title="Imported")
    assert response.status_code == 302
    assert response["Location"] == reverse("recognition:note", args=[imported.pk])
    assert imported.collection == collection and imported.text == note.text.split("\n\n")[0]


def test_import_page_shows_what_is_wrong(alice_client, jpeg_upload):
    response = alice_client.post(reverse("recognition:note-import"), {
        "xml": SimpleUploadedFile("notes.xml", b"<html><body/></html>"),
        "image": jpeg_upload()})
    assert response.status_code == 400
    assert "“notes.xml” is neither ALTO nor PAGE XML (its root element is &lt;html&gt;)." in (
        response.content.decode())
    assert not Note.objects.exists()


def test_import_page_needs_both_files(alice_client):
    response = alice_client.post(reverse("recognition:note-import"), {})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose the ALTO or PAGE XML file to import." in html
    assert "Choose the page image that the XML file describes." in html
