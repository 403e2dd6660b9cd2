"""Titles, collection and tag names lose invisible control and bidi characters on every path:
the cleaning itself, the services, the web forms and the API."""

import unicodedata

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from recognition import services
from recognition.models import Collection, Note, Tag
from recognition.text import clean_label
from tests.api.conftest import token_client

RLO, LRI, PDI, ZWSP, ZWJ, ZWNJ = "\u202e", "\u2066", "\u2069", "\u200b", "\u200d", "\u200c"


@pytest.mark.parametrize(("raw", "clean"), [
    ("  Week\t1\nnotes\r\n", "Week 1 notes"),
    (f"invoice{RLO}gpj.exe", "invoicegpj.exe"),
    (f"{LRI}Work{PDI}", "Work"),
    (f"Wo{ZWSP}rk\ufeff", "Work"),
    ("bell\x07 and\x00 nul\x1b", "bell and nul"),
    ("soft\u00adhyphen", "softhyphen"),
    (f"a {ZWSP} b", "a b"),
    ("line\u2028separator\u0085next", "line separator next"),
    ("lone\ud800surrogate", "lonesurrogate"),
])
def test_clean_label_drops_invisible_characters_and_keeps_one_line(raw, clean):
    assert clean_label(raw) == clean


def test_clean_label_normalizes_to_nfc_after_removing():
    cleaned = clean_label(f"Caf e{ZWSP}\u0301")  # the accent joins its letter once ZWSP is gone
    assert cleaned == "Caf \u00e9" and unicodedata.is_normalized("NFC", cleaned)


def test_clean_label_keeps_joiners_inside_words_only():
    persian = f"\u0645\u06cc{ZWNJ}\u062e\u0648\u0627\u0647\u0645"  # "mi-khaham": ZWNJ is spelling
    coder = f"\U0001f469{ZWJ}\U0001f4bb"  # one emoji drawn from two
    assert clean_label(persian) == persian and clean_label(coder) == coder
    assert clean_label(f"{ZWJ}tag{ZWNJ} ") == "tag"


# Services ---------------------------------------------------------------------------------------

def test_tag_create_cleans_and_a_lookalike_of_an_existing_tag_is_refused(user):
    tag = services.tag_create(user=user, name=f"{RLO}urgent\n")
    assert tag.name == "urgent"
    with pytest.raises(ValidationError, match="already exists"):
        services.tag_create(user=user, name=f"urg{ZWSP}ent")
    assert list(Tag.objects.values_list("name", flat=True)) == ["urgent"]


def test_a_name_of_only_invisible_characters_is_blank(user):
    with pytest.raises(ValidationError, match="cannot be blank"):
        services.collection_create(user=user, name=f"{RLO}{ZWSP}\t")
    assert not Collection.objects.exists()


def test_upload_title_from_the_file_name_is_cleaned_too(user, jpeg_upload,
                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        [note] = services.note_upload(user=user, files=[jpeg_upload(f"scan{RLO}gpj.exe.jpg")],
                                      tags=[f"a{ZWSP}", "a", f"{LRI}\n"])
    assert note.title == "scangpj.exe"
    assert [t.name for t in note.tags.all()] == ["a"]


# Web forms --------------------------------------------------------------------------------------

def test_web_collection_create_and_rename_store_clean_names(alice_client, user):
    response = alice_client.post(reverse("recognition:collections"),
                                 {"name": f"Lectures{RLO}\t2026"})
    collection = Collection.objects.get(owner=user)
    assert response.status_code == 302 and collection.name == "Lectures 2026"

    alice_client.post(reverse("recognition:collection-rename", args=[collection.pk]),
                      {"name": f"{LRI}Seminars{PDI}"})
    collection.refresh_from_db()
    assert collection.name == "Seminars"


def test_web_note_edit_cleans_title_and_tags(alice_client, user, jpeg_upload,
                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        [note] = services.note_upload(user=user, files=[jpeg_upload()])
    response = alice_client.post(reverse("recognition:note-edit", args=[note.pk]), {
        "title": f"Monday\nmeeting{RLO}", "collection": note.collection.pk,
        "tags": f"wo{ZWSP}rk, {LRI}home{PDI}"})
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.title == "Monday meeting"
    assert sorted(t.name for t in note.tags.all()) == ["home", "work"]


# API --------------------------------------------------------------------------------------------

def test_api_collection_and_tag_names_are_cleaned(user):
    api = token_client(user)
    created = api.post("/api/v1/collections/", {"name": f"Archive{ZWSP}\n2025"}, format="json")
    assert created.status_code == 201 and created.json()["name"] == "Archive 2025"
    renamed = api.patch(f"/api/v1/collections/{created.json()['id']}/",
                        {"name": f"{RLO}Old"}, format="json")
    assert renamed.status_code == 200 and Collection.objects.get().name == "Old"

    tag = api.post("/api/v1/tags/", {"name": f"{LRI}exam{PDI}"}, format="json")
    assert tag.status_code == 201 and Tag.objects.get().name == "exam"
    twin = api.post("/api/v1/tags/", {"name": f"ex{ZWSP}am"}, format="json")
    assert twin.status_code == 400 and Tag.objects.count() == 1


def test_api_upload_and_note_update_clean_title_and_tags(user, jpeg_upload,
                                                         django_capture_on_commit_callbacks):
    api = token_client(user)
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post("/api/v1/notes/", {
            "file": [jpeg_upload()], "title": f"Week{RLO} 1\t", "tags": f"x{ZWSP}, y"},
            format="multipart")
    assert response.status_code == 202
    note = Note.objects.get()
    assert note.title == "Week 1" and sorted(t.name for t in note.tags.all()) == ["x", "y"]

    response = api.patch(f"/api/v1/notes/{note.pk}/", {
        "title": f"{LRI}Week\r\n2{PDI}", "tags": [f"z{RLO}"]}, format="json")
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["tags"]) == ("Week 2", ["z"])
