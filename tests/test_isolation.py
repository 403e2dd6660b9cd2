"""User B never reaches user A's collections, notes or files, whatever URL B guesses.

The URL list is read from the URLconf, so a new page with an id in its path is covered (or
fails here until it is listed) without anyone remembering to add it.
"""

import pytest
from django.urls import reverse

from recognition import services
from recognition.models import Collection, Note, PersonalModel
from tests.conftest import urls_for
from tests.factories import CollectionFactory

SECRET_TITLE = "Alice's private diary"


@pytest.fixture
def alice_objects(user, jpeg_upload, django_capture_on_commit_callbacks):
    collection = CollectionFactory(owner=user, name="Alice's notebook")
    with django_capture_on_commit_callbacks(execute=True):
        [note] = services.note_upload(user=user, files=[jpeg_upload()], collection=collection,
                                      title=SECRET_TITLE, tags=["secret"])
    model = PersonalModel.objects.create(owner=user, status=PersonalModel.Status.PROMOTED,
                                         file="personal-models/1/1.pt", message=SECRET_TITLE)
    return {"collection": collection, "note": Note.objects.get(pk=note.pk), "model": model}


def object_urls(objects) -> list[str]:
    """Every named URL of the recognition app that takes an object id, for A's objects."""
    note, collection = objects["note"], objects["collection"]
    args_by_name = {
        "note": [note.pk], "note-status": [note.pk], "note-edit": [note.pk],
        "note-delete": [note.pk], "note-recognize": [note.pk], "note-thumbnail": [note.pk],
        "note-original": [note.pk], "page-image": [note.pk, 1],
        "collection": [collection.pk], "collection-rename": [collection.pk],
        "collection-delete": [collection.pk],
        "note-export": [note.pk, "pdf"], "collection-export": [collection.pk, "pdf"],
        "note-text": [note.pk], "note-history": [note.pk], "revision": [note.pk, 1],
        "revision-revert": [note.pk, 1],
        "line-update": [note.pk, note.pages.get().lines.first().pk],
        "line-crop": [note.pk, note.pages.get().lines.first().pk],
        **{name: [note.pk, note.pages.get().lines.first().pk]
           for name in ("line-delete", "line-split", "line-merge", "line-move", "line-region")},
        "line-insert": [note.pk, 1],
        "personal-model-use": [objects["model"].pk],
    }
    return urls_for("recognition", args_by_name)


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_user_gets_404_on_every_object_url(bob_client, alice_objects, method):
    for url in object_urls(alice_objects):
        response = getattr(bob_client, method)(url, {"name": "pwned", "title": "pwned"})
        assert response.status_code in (404, 405), url  # 405: wrong method, checked first
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert SECRET_TITLE.encode() not in body, url
    note = Note.objects.get(pk=alice_objects["note"].pk)
    assert note.title == SECRET_TITLE and note.jobs.count() == 1
    assert Collection.objects.get(pk=alice_objects["collection"].pk).name == "Alice's notebook"
    assert not PersonalModel.objects.filter(active=True).exists()


def test_lists_show_only_ones_own_objects(bob_client, alice_objects):
    for url in [reverse("recognition:home"), reverse("recognition:collections"),
                reverse("recognition:home") + "?tag=secret", reverse("recognition:upload"),
                reverse("accounts:profile"), reverse("recognition:personal-model")]:
        html = bob_client.get(url).content.decode()
        assert SECRET_TITLE not in html and "Alice's notebook" not in html, url


def test_anonymous_visitors_reach_no_object_url(client, alice_objects):
    for url in object_urls(alice_objects):
        response = client.get(url)
        assert response.status_code in (302, 405), url
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("accounts:login"))


def test_media_is_not_served_from_a_public_path(bob_client, client, alice_objects, settings):
    name = alice_objects["note"].original.name
    for c in (bob_client, client):
        assert c.get(f"/media/{name}").status_code == 404
        assert c.get(f"/{name}").status_code in (302, 404)


def test_admin_is_for_staff_only(bob_client, alice_objects):
    response = bob_client.get(reverse("admin:recognition_note_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_live_status_answers_nothing_about_another_users_notes(bob_client, alice_objects):
    note = alice_objects["note"]
    response = bob_client.get(reverse("recognition:notes-status"), {"ids": str(note.pk)})
    assert response.status_code == 200 and response.json() == {"notes": []}
    assert SECRET_TITLE.encode() not in response.content


def test_live_status_sends_anonymous_visitors_to_log_in(client, alice_objects):
    response = client.get(reverse("recognition:notes-status"),
                          {"ids": str(alice_objects["note"].pk)})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


# Phone capture and the installable app (issue 14) ------------------------------------------------

def test_capture_into_another_users_collection_is_refused(bob_client, alice_objects, jpeg_upload):
    collection = alice_objects["collection"]
    response = bob_client.post(reverse("recognition:capture"),
                               {"page": [jpeg_upload("page-1.jpg")], "collection": collection.pk},
                               HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["collection"]
    assert collection.notes.count() == 1 and Note.objects.count() == 1


def test_capture_page_lists_only_ones_own_collections(bob_client, alice_objects):
    html = bob_client.get(reverse("recognition:capture")).content.decode()
    assert "Alice's notebook" not in html
    assert f'value="{alice_objects["collection"].pk}"' not in html


def test_pwa_files_hold_nothing_of_any_user(bob_client, client, alice_objects):
    for url in ("/manifest.webmanifest", "/sw.js", "/offline/"):
        anonymous = client.get(url)
        assert anonymous.status_code == 200, url
        assert SECRET_TITLE not in anonymous.content.decode(), url
    assert bob_client.get("/sw.js").content == client.get("/sw.js").content


# The library (issue 14): bulk actions and saved searches take ids in the POST body, not the
# path; another user's ids are left alone, and a saved search of theirs is a 404.

LIBRARY_ACTIONS = [("move", {}), ("tag_add", {"tag": "pwned"}), ("tag_remove", {"tag": "secret"}),
                   ("recognize", {}), ("delete", {"confirm": "on"}), ("export", {"format": "txt"})]


@pytest.mark.parametrize("action,extra", LIBRARY_ACTIONS)
def test_bulk_actions_never_touch_another_users_notes(bob_client, other_user, alice_objects,
                                                      action, extra):
    note = alice_objects["note"]
    if action == "move":
        extra = {"collection": CollectionFactory(owner=other_user).pk}
    response = bob_client.post(reverse("recognition:library-bulk"),
                               {"action": action, "notes": [note.pk], "next": "/", **extra},
                               follow=True)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert SECRET_TITLE.encode() not in body
    note = Note.objects.get(pk=note.pk)
    assert note.title == SECRET_TITLE and note.jobs.count() == 1
    assert note.collection == alice_objects["collection"]
    assert [t.name for t in note.tags.all()] == ["secret"]


def test_another_users_saved_search_is_404(bob_client, user, alice_objects):
    from recognition.models import SavedSearch

    search = SavedSearch.objects.create(owner=user, name=SECRET_TITLE, query="tag=secret")
    response = bob_client.post(reverse("recognition:saved-search-delete"), {"search": search.pk})
    assert response.status_code == 404 and SavedSearch.objects.filter(pk=search.pk).exists()
    assert SECRET_TITLE not in bob_client.get(reverse("recognition:home")).content.decode()
