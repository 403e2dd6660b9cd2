"""The live status of many notes at once (GET /notes/status/?ids=), what live-status.js polls,
and the note page's parts that follow it (status box, the upload's image, revision link)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from recognition import live
from recognition.models import Note, Page
from tests.factories import CollectionFactory

STATUS = reverse("recognition:notes-status")
SCRIPT = Path(settings.BASE_DIR) / "static" / "js" / "live-status.js"


def make_note(owner, *, title="Lecture", status="queued", thumbnail=True, **fields) -> Note:
    note = Note.objects.create(
        owner=owner, collection=CollectionFactory(owner=owner), title=title, status=status,
        kind="image", content_type="image/jpeg", size=1, sha256="0",
        original="notes/x/original.jpg", original_name="lecture.jpg", **fields)
    if thumbnail:
        note.thumbnail.name = default_storage.save(f"notes/{note.pk}/thumbnail.jpg",
                                                   ContentFile(b"jpeg"))
        note.save()
    return note


def statuses(client, ids) -> dict:
    response = client.get(STATUS, {"ids": ",".join(str(i) for i in ids)})
    assert response.status_code == 200
    return {state["id"]: state for state in response.json()["notes"]}


@pytest.mark.django_db
def test_notes_status_reports_each_notes_progress(alice_client, user):
    reading = make_note(user, status="processing", pages_total=4, pages_done=1)
    done = make_note(user, title="Done one", status="done", pages_total=1, pages_done=1)
    found = statuses(alice_client, [reading.pk, done.pk])
    assert found[reading.pk] == {
        "id": reading.pk, "title": "Lecture", "status": "processing",
        "status_label": "Processing", "pages_done": 1, "pages_total": 4, "progress": 25,
        "failure": "", "url": reverse("recognition:note", args=[reading.pk]),
        "preview": reverse("recognition:note-thumbnail", args=[reading.pk])}
    assert (found[done.pk]["status"], found[done.pk]["status_label"]) == ("done", "Done")


@pytest.mark.django_db
def test_notes_status_reports_why_a_note_failed(alice_client, user):
    note = make_note(user, status="failed", error="The file could not be read.")
    assert statuses(alice_client, [note.pk])[note.pk]["failure"] == "The file could not be read."


@pytest.mark.django_db
def test_notes_status_previews_the_first_page_once_the_worker_stored_it(alice_client, user):
    note = make_note(user, status="processing")
    Page.objects.create(note=note, number=1, image="notes/x/page-001.jpg", width=10, height=10)
    assert statuses(alice_client, [note.pk])[note.pk]["preview"] == reverse(
        "recognition:page-image", args=[note.pk, 1])


@pytest.mark.django_db
def test_notes_status_has_no_preview_without_an_image(alice_client, user):
    note = make_note(user, thumbnail=False)
    assert statuses(alice_client, [note.pk])[note.pk]["preview"] is None


@pytest.mark.django_db
def test_notes_status_leaves_out_other_users_and_missing_notes(alice_client, user, other_user):
    mine = make_note(user)
    theirs = make_note(other_user, title="Bob's secret")
    response = alice_client.get(STATUS, {"ids": f"{mine.pk},{theirs.pk},999999"})
    assert [state["id"] for state in response.json()["notes"]] == [mine.pk]
    assert b"Bob's secret" not in response.content


@pytest.mark.django_db
def test_notes_status_answers_each_note_once(alice_client, user):
    note = make_note(user)
    response = alice_client.get(STATUS, {"ids": f"{note.pk},{note.pk}"})
    assert len(response.json()["notes"]) == 1


@pytest.mark.django_db
def test_notes_status_is_never_cached(alice_client, user):
    note = make_note(user)
    assert alice_client.get(STATUS, {"ids": note.pk})["Cache-Control"] == "no-store"


@pytest.mark.django_db
@pytest.mark.parametrize("ids", ["", "1,x", "-1", "1;2", "١٢"])
def test_notes_status_rejects_what_is_not_a_list_of_ids(alice_client, ids):
    response = alice_client.get(STATUS, {"ids": ids})
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "invalid", "message": live.ERROR_IDS,
                                         "fields": {"ids": [live.ERROR_IDS]}}}


@pytest.mark.django_db
def test_notes_status_caps_the_number_of_ids(alice_client):
    ids = ",".join(str(n) for n in range(1, live.MAX_IDS + 2))
    response = alice_client.get(STATUS, {"ids": ids})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == live.ERROR_TOO_MANY


@pytest.mark.django_db
def test_notes_status_accepts_the_most_ids_allowed(alice_client):
    ids = ",".join(str(n) for n in range(1, live.MAX_IDS + 1))
    assert alice_client.get(STATUS, {"ids": ids}).json() == {"notes": []}


@pytest.mark.django_db
def test_notes_status_needs_a_login(client):
    response = client.get(STATUS, {"ids": "1"})
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login"))


@pytest.mark.django_db
def test_notes_status_refuses_a_post(alice_client):
    assert alice_client.post(STATUS, {"ids": "1"}).status_code == 405


def test_live_status_script_polls_the_notes_status_url():
    assert f'const ENDPOINT = "{STATUS}";' in SCRIPT.read_text()
    assert f"const BATCH = {live.MAX_IDS};" in SCRIPT.read_text()


# The note page's parts that live-status.js and note.js work with ------------------------------

@pytest.mark.django_db
def test_note_page_status_box_is_a_polite_live_region_of_the_status_contract(alice_client,
                                                                             user):
    note = make_note(user, status="processing", pages_total=2)
    html = alice_client.get(reverse("recognition:note", args=[note.pk])).content.decode()
    assert (f'data-note-status="{note.pk}" data-status="processing"\n     aria-live="polite"'
            in html)
    assert "data-status-label" in html and "data-progress" in html


@pytest.mark.django_db
def test_note_page_shows_the_uploads_image_while_no_page_is_stored(alice_client, user):
    note = make_note(user)
    html = alice_client.get(reverse("recognition:note", args=[note.pk])).content.decode()
    assert f'src="{reverse("recognition:note-thumbnail", args=[note.pk])}"' in html
    assert "Being read…" in html


@pytest.mark.django_db
def test_note_page_shows_the_uploads_image_when_it_failed_before_any_page(alice_client, user):
    note = make_note(user, status="failed", error="Not an image.")
    html = alice_client.get(reverse("recognition:note", args=[note.pk])).content.decode()
    assert f'src="{reverse("recognition:note-thumbnail", args=[note.pk])}"' in html
    assert "Not read." in html and "Being read…" not in html


@pytest.mark.django_db
def test_note_page_shows_pages_not_the_thumbnail_once_stored(alice_client, user):
    note = make_note(user, status="processing")
    Page.objects.create(note=note, number=1, image="notes/x/page-001.jpg", width=10, height=10)
    html = alice_client.get(reverse("recognition:note", args=[note.pk])).content.decode()
    assert reverse("recognition:note-thumbnail", args=[note.pk]) not in html
    assert reverse("recognition:page-image", args=[note.pk, 1]) in html


@pytest.mark.django_db
def test_note_page_keeps_a_hidden_revision_link_for_revision_zero(alice_client, user):
    note = make_note(user)
    html = alice_client.get(reverse("recognition:note", args=[note.pk])).content.decode()
    assert "<span data-revision-link hidden>" in html
    assert "<span data-revision-number>0</span>" in html
