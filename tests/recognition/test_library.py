"""The notes library (issue 14): Home and a collection page as a paged, sorted, filtered list
of cards, saved searches, bulk actions on selected notes, and batch uploads' titles."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from recognition import services
from recognition.exports import archive
from recognition.library import forms as library_forms
from recognition.library import selectors as library_selectors
from recognition.library import services as library_services
from recognition.library import views as library_views
from recognition.models import Line, Note, Page, RecognitionJob, SavedSearch, Tag
from recognition.views import UPLOADED
from tests.factories import CollectionFactory

HOME = "recognition:home"


def make_note(user, *, title="Note", collection=None, status="done", note_date=None,
              text="", created=None, lines=(), tags=(), pages_total=1) -> Note:
    """A note row made directly (no files): `lines` are (text, word confidences, corrected)."""
    collection = collection or user.collections.get_or_create(name="Inbox")[0]
    note = Note.objects.create(owner=user, collection=collection, title=title, kind="image",
                               content_type="image/jpeg", size=1, sha256="0",
                               original="notes/x/original.jpg", original_name="o.jpg",
                               status=status,
                               note_date=note_date, text=text, pages_total=pages_total,
                               pages_done=pages_total if status == "done" else 0)
    if created is not None:
        Note.objects.filter(pk=note.pk).update(created=created)
    if lines:
        page = Page.objects.create(note=note, number=1, image="p.jpg", width=10, height=10,
                                   recognized=True)
        for order, (line_text, confidences, corrected) in enumerate(lines):
            words = [{"text": word, "confidence": c, "alternatives": []}
                     for word, c in zip(line_text.split(), confidences, strict=True)]
            Line.objects.create(page=page, order=order, text=line_text, machine_text=line_text,
                                words=words, corrected=corrected, polygon=[])
    for name in tags:
        note.tags.add(Tag.objects.get_or_create(owner=user, name=name)[0])
    return Note.objects.get(pk=note.pk)


def titles(response) -> list[str]:
    return [note.title for note in response.context["notes"]]


def test_visitors_get_the_landing_page_on_home(client):
    response = client.get(reverse(HOME))
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "landing.html"


def test_visitors_cannot_use_bulk_actions_or_saved_searches(client):
    for name in ("library-bulk", "saved-search-save", "saved-search-delete"):
        response = client.post(reverse(f"recognition:{name}"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


# The list: pages, sort, filters ------------------------------------------------------------------

def test_home_pages_through_every_note_48_at_a_time(alice_client, user):
    inbox = user.collections.create(name="Inbox")
    Note.objects.bulk_create([
        Note(owner=user, collection=inbox, title=f"n{i:03d}", kind="image", size=1,
             content_type="image/jpeg", sha256="0", original="o.jpg") for i in range(250)])
    first = alice_client.get(reverse(HOME))
    last = alice_client.get(reverse(HOME), {"page": 6})
    assert len(first.context["notes"]) == 48 and len(last.context["notes"]) == 250 - 5 * 48
    html = first.content.decode()
    assert "1–48 of 250 notes" in html
    assert 'rel="next" href="?page=2"' in html and 'aria-current="page"' in html
    assert '<nav class="pagination" aria-label="Pages">' in html


def test_page_links_keep_the_filters(alice_client, user):
    for i in range(50):
        make_note(user, title=f"n{i}", status="failed")
    html = alice_client.get(reverse(HOME), {"status": "failed", "page": "2"}).content.decode()
    assert 'rel="prev" href="?status=failed&amp;page=1"' in html


def test_a_page_number_that_is_no_number_shows_the_first_page(alice_client, user):
    make_note(user, title="Only")
    response = alice_client.get(reverse(HOME), {"page": "abc"})
    assert response.status_code == 200 and titles(response) == ["Only"]


@pytest.mark.parametrize("sort,expected", [
    ("newest", ["beta", "Alpha", "gamma"]),
    ("oldest", ["gamma", "Alpha", "beta"]),
    ("title", ["Alpha", "beta", "gamma"]),
    ("date", ["Alpha", "gamma", "beta"]),
])
def test_home_sorts_by_the_chosen_order(alice_client, user, sort, expected):
    now = timezone.now()
    make_note(user, title="gamma", created=now - dt.timedelta(days=3),
              note_date=dt.date(2026, 1, 1))
    make_note(user, title="Alpha", created=now - dt.timedelta(days=2),
              note_date=dt.date(2026, 5, 1))
    make_note(user, title="beta", created=now - dt.timedelta(days=1))
    assert titles(alice_client.get(reverse(HOME), {"sort": sort})) == expected


def test_recently_updated_sort_puts_the_last_change_first(alice_client, user):
    older, newer = make_note(user, title="older"), make_note(user, title="newer")
    services.note_update(user=user, note=older, title="older", collection=older.collection)
    assert titles(alice_client.get(reverse(HOME), {"sort": "updated"})) == ["older", "newer"]
    assert newer.pk > older.pk


def test_home_filters_by_status(alice_client, user):
    make_note(user, title="read", status="done")
    make_note(user, title="broken", status="failed")
    assert titles(alice_client.get(reverse(HOME), {"status": "failed"})) == ["broken"]


def test_home_filters_by_collection_and_tag(alice_client, user):
    lectures = CollectionFactory(owner=user, name="Lectures")
    make_note(user, title="in lectures", collection=lectures, tags=["exam"])
    make_note(user, title="in inbox", tags=["exam"])
    assert titles(alice_client.get(reverse(HOME), {"collection": lectures.pk})) == ["in lectures"]
    assert sorted(titles(alice_client.get(reverse(HOME), {"tag": "exam"}))) == [
        "in inbox", "in lectures"]


def test_date_range_uses_the_note_date_else_the_upload_day(alice_client, user):
    now = timezone.now()
    make_note(user, title="written in march", note_date=dt.date(2026, 3, 10),
              created=now)
    make_note(user, title="uploaded in march", created=dt.datetime(2026, 3, 12, 12, tzinfo=dt.UTC))
    make_note(user, title="written in may", note_date=dt.date(2026, 5, 1),
              created=dt.datetime(2026, 3, 11, 12, tzinfo=dt.UTC))
    response = alice_client.get(reverse(HOME), {"date_from": "2026-03-01",
                                                "date_to": "2026-03-31"})
    assert sorted(titles(response)) == ["uploaded in march", "written in march"]


def test_unsure_filter_finds_notes_with_an_uncorrected_unsure_word(alice_client, user, settings):
    settings.NOTES_LOW_CONFIDENCE = 0.6
    make_note(user, title="unsure", lines=[("all fine", [0.9, 0.95], False),
                                           ("one doubt", [0.9, 0.4], False)])
    make_note(user, title="corrected", lines=[("one doubt", [0.9, 0.4], True)])
    make_note(user, title="sure", lines=[("all fine", [0.9, 0.6], False)])
    make_note(user, title="no lines")
    assert titles(alice_client.get(reverse(HOME), {"unsure": "on"})) == ["unsure"]


@pytest.mark.parametrize("params,message", [
    ({"status": "lost"}, "Unknown status “lost”: choose queued, processing, done or failed."),
    ({"sort": "size"}, "Unknown sort order “size”: choose newest, oldest, title, date or "
                       "updated."),
    ({"date_from": "yesterday"}, library_forms.ERROR_DATE),
    ({"date_from": "2026-05-01", "date_to": "2026-04-01"}, library_forms.ERROR_DATES),
    ({"tag": "nope"}, "There is no tag “nope”."),
    ({"collection": "999999"}, library_forms.ERROR_NO_COLLECTION),
    ({"collection": "abc"}, library_forms.ERROR_NO_COLLECTION),
])
def test_an_invalid_filter_is_explained_not_a_500(alice_client, user, params, message):
    make_note(user, title="Still listed")
    response = alice_client.get(reverse(HOME), params)
    html = response.content.decode()
    assert response.status_code == 400
    assert message.replace("“", "&ldquo;") in html or message in html
    assert library_views.ERROR_FILTERS in html and "Still listed" in html


def test_another_users_collection_is_no_valid_filter(alice_client, user, other_user):
    theirs = CollectionFactory(owner=other_user, name="Bob's")
    make_note(other_user, title="Bob's note", collection=theirs)
    response = alice_client.get(reverse(HOME), {"collection": theirs.pk})
    assert response.status_code == 400 and "Bob's note" not in response.content.decode()


def test_collection_page_lists_only_its_notes_with_filters(alice_client, user):
    lectures = CollectionFactory(owner=user, name="Lectures")
    make_note(user, title="done lecture", collection=lectures)
    make_note(user, title="failed lecture", collection=lectures, status="failed")
    make_note(user, title="inbox note")
    url = reverse("recognition:collection", args=[lectures.pk])
    assert sorted(titles(alice_client.get(url))) == ["done lecture", "failed lecture"]
    assert titles(alice_client.get(url, {"status": "failed"})) == ["failed lecture"]


# Cards ---------------------------------------------------------------------------------------

def test_card_shows_page_count_first_line_and_tags(alice_client, user):
    make_note(user, title="Lecture", text="\n\nFirst line of it\nsecond line", pages_total=3,
              tags=["physics"])
    html = alice_client.get(reverse(HOME)).content.decode()
    assert "3 pages" in html
    assert '<p class="snippet">First line of it</p>' in html
    assert 'href="/?tag=physics"' in html


def test_first_line_is_shortened_with_an_ellipsis():
    assert library_selectors.first_line("x" * 200) == "x" * 119 + "…"
    assert library_selectors.first_line("  \n  hello \nworld") == "hello"


def test_card_carries_the_live_status_contract(alice_client, user):
    note = make_note(user, title="Busy", status="processing", pages_total=4)
    Note.objects.filter(pk=note.pk).update(pages_done=1)
    html = alice_client.get(reverse(HOME)).content.decode()
    assert f'<li class="card" data-note-status="{note.pk}" data-status="processing">' in html
    assert ('<span class="status status-processing" data-status-label>Processing</span>'
            in html)
    assert '<progress max="100" value="25" data-progress' in html


def test_a_finished_note_has_no_progress_bar(alice_client, user):
    make_note(user, title="Read")
    assert "data-progress" not in alice_client.get(reverse(HOME)).content.decode()


def test_home_reads_no_note_text_beyond_the_snippet(alice_client, user,
                                                    django_assert_max_num_queries):
    for i in range(60):
        make_note(user, title=f"n{i}", text="long text " * 500, tags=["t"])
    with django_assert_max_num_queries(20):
        response = alice_client.get(reverse(HOME))
    assert all("text" in note.get_deferred_fields() for note in response.context["notes"])


# Saved searches ------------------------------------------------------------------------------

def test_saving_a_search_keeps_its_filters_without_the_page(alice_client, user):
    response = alice_client.post(reverse("recognition:saved-search-save"),
                                 {"name": "Failed ones", "query": "status=failed&page=3"})
    search = SavedSearch.objects.get(owner=user)
    assert (search.name, search.query) == ("Failed ones", "status=failed")
    assert response["Location"] == "/?status=failed"
    html = alice_client.get(reverse(HOME)).content.decode()
    assert '<a class="tag" href="/?status=failed">Failed ones</a>' in html


def test_a_saved_search_name_is_unique_per_owner(user, other_user):
    library_services.saved_search_create(user=user, name="Mine", query="status=done")
    library_services.saved_search_create(user=other_user, name="Mine", query="")
    with pytest.raises(Exception, match="You already have a saved search named “Mine”."):
        library_services.saved_search_create(user=user, name=" Mine ", query="status=failed")
    assert SavedSearch.objects.filter(owner=user).count() == 1


def test_saving_a_taken_name_says_so(alice_client, user):
    SavedSearch.objects.create(owner=user, name="Mine", query="")
    response = alice_client.post(reverse("recognition:saved-search-save"),
                                 {"name": "Mine", "query": "status=done"}, follow=True)
    assert "You already have a saved search named “Mine”." in response.content.decode()
    assert SavedSearch.objects.count() == 1


def test_deleting_a_saved_search(alice_client, user):
    search = SavedSearch.objects.create(owner=user, name="Mine", query="")
    alice_client.post(reverse("recognition:saved-search-delete"), {"search": search.pk})
    assert not SavedSearch.objects.exists()


def test_another_users_saved_search_cannot_be_deleted(bob_client, user):
    search = SavedSearch.objects.create(owner=user, name="Mine", query="")
    response = bob_client.post(reverse("recognition:saved-search-delete"), {"search": search.pk})
    assert response.status_code == 404 and SavedSearch.objects.count() == 1


def test_saved_search_delete_with_no_number_is_a_message(alice_client):
    response = alice_client.post(reverse("recognition:saved-search-delete"), {"search": "x"},
                                 follow=True)
    assert library_views.ERROR_SEARCH_ID in response.content.decode()


# Bulk actions --------------------------------------------------------------------------------

def bulk(client, action, notes, **extra):
    return client.post(reverse("recognition:library-bulk"),
                       {"action": action, "notes": [n.pk for n in notes], "next": "/", **extra},
                       follow=True)


def test_bulk_move_moves_the_selected_notes(alice_client, user):
    target = CollectionFactory(owner=user, name="Archive")
    a, b, c = (make_note(user, title=t) for t in "abc")
    response = bulk(alice_client, "move", [a, b], collection=target.pk)
    assert "2 notes moved to “Archive”." in response.content.decode()
    assert {n.title for n in target.notes.all()} == {"a", "b"}
    c.refresh_from_db()
    assert c.collection.name == "Inbox"


def test_bulk_actions_leave_another_users_notes_alone_and_say_so(alice_client, user,
                                                                 other_user):
    mine = make_note(user, title="mine")
    theirs = make_note(other_user, title="theirs", tags=["private"])
    target = CollectionFactory(owner=user, name="Archive")
    response = bulk(alice_client, "move", [mine, theirs], collection=target.pk)
    html = response.content.decode()
    assert "1 note moved to “Archive”." in html
    assert "1 note of the selection not found (deleted, or not yours): left alone." in html
    for action, extra in [("tag_add", {"tag": "x"}), ("tag_remove", {"tag": "private"}),
                          ("recognize", {}), ("delete", {"confirm": "on"})]:
        bulk(alice_client, action, [theirs], **extra)
    theirs.refresh_from_db()
    assert theirs.collection.owner == other_user and theirs.jobs.count() == 0
    assert [t.name for t in theirs.tags.all()] == ["private"]


def test_bulk_services_ignore_ids_of_other_users(user, other_user):
    theirs = make_note(other_user, title="theirs")
    result = library_services.notes_delete(user=user, note_ids=[theirs.pk])
    assert (result.done, result.missing) == (0, 1) and Note.objects.filter(pk=theirs.pk).exists()


def test_bulk_move_into_another_users_collection_is_refused(alice_client, user, other_user):
    mine = make_note(user, title="mine")
    theirs = CollectionFactory(owner=other_user)
    response = bulk(alice_client, "move", [mine], collection=theirs.pk)
    assert library_forms.ERROR_NO_COLLECTION in response.content.decode()
    mine.refresh_from_db()
    assert mine.collection.owner == user


def test_bulk_tag_add_and_remove(alice_client, user):
    a, b = make_note(user, title="a", tags=["old"]), make_note(user, title="b")
    html = bulk(alice_client, "tag_add", [a, b], tag=" exam ").content.decode()
    assert "Tag “exam” added to 2 notes." in html
    assert set(Note.objects.filter(tags__name="exam").values_list("title", flat=True)) == {
        "a", "b"}
    html = bulk(alice_client, "tag_remove", [a, b], tag="old").content.decode()
    assert "Tag “old” removed from 1 note." in html
    assert not a.tags.filter(name="old").exists()


def test_bulk_tag_remove_of_an_unknown_tag_says_so(alice_client, user):
    a = make_note(user, title="a")
    html = bulk(alice_client, "tag_remove", [a], tag="ghost").content.decode()
    assert "None of your notes has the tag “ghost”." in html


def test_bulk_recognize_skips_busy_notes_and_says_how_many(alice_client, user,
                                                           django_capture_on_commit_callbacks):
    done, failed = make_note(user, title="done"), make_note(user, title="failed",
                                                            status="failed")
    busy = make_note(user, title="busy", status="queued")
    RecognitionJob.objects.create(note=busy)
    with django_capture_on_commit_callbacks(execute=False):
        html = bulk(alice_client, "recognize", [done, failed, busy]).content.decode()
    assert "Recognition queued for 2 notes." in html
    assert "1 note skipped: already being recognized." in html
    assert busy.jobs.count() == 1 and done.jobs.count() == 1 and failed.jobs.count() == 1


def test_bulk_delete_asks_first(alice_client, user):
    a, b = make_note(user, title="first"), make_note(user, title="second")
    response = bulk(alice_client, "delete", [a, b])
    html = response.content.decode()
    assert "Delete 2 notes?" in html and Note.objects.count() == 2
    assert '<input type="hidden" name="confirm" value="on">' in html
    response = bulk(alice_client, "delete", [a, b], confirm="on")
    assert "2 notes deleted." in response.content.decode()
    assert not Note.objects.exists()


def test_bulk_export_is_one_zip_of_the_selected_notes(alice_client, user, text_note):
    other = make_note(user, title="Untouched")
    response = alice_client.post(reverse("recognition:library-bulk"), {
        "action": "export", "notes": [text_note.pk, other.pk], "format": "txt"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="notes-txt.zip"'
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as zipped:
        assert zipped.namelist() == ["Lecture.txt"]  # a note without pages has nothing


def test_bulk_without_a_selection_says_so(alice_client, user):
    response = alice_client.post(reverse("recognition:library-bulk"),
                                 {"action": "move", "next": "/"}, follow=True)
    assert library_forms.ERROR_NOTHING_SELECTED in response.content.decode()


def test_bulk_with_bad_ids_says_so(alice_client):
    response = alice_client.post(reverse("recognition:library-bulk"),
                                 {"action": "delete", "notes": ["1; drop"], "next": "/"},
                                 follow=True)
    assert library_forms.ERROR_BAD_IDS in response.content.decode()


def test_bulk_returns_only_to_pages_of_this_site(alice_client, user):
    a = make_note(user, title="a")
    response = alice_client.post(reverse("recognition:library-bulk"), {
        "action": "tag_add", "tag": "x", "notes": [a.pk], "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_bulk_answers_json_when_asked(alice_client, user, other_user):
    mine, theirs = make_note(user, title="a"), make_note(other_user, title="b")
    response = alice_client.post(reverse("recognition:library-bulk"),
                                 {"action": "tag_add", "tag": "x", "notes": [mine.pk, theirs.pk]},
                                 HTTP_ACCEPT="application/json")
    assert response.json() == {"done": 1, "skipped": 0, "missing": 1}
    response = alice_client.post(reverse("recognition:library-bulk"), {"action": "move"},
                                 HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["notes"] == [library_forms.ERROR_NOTHING_SELECTED]


# Uploads -------------------------------------------------------------------------------------

def test_a_batch_with_one_title_gets_one_title_per_file(user, jpeg_upload):
    notes = services.note_upload(user=user, title="Letter",
                                 files=[jpeg_upload("scan_001.jpg"), jpeg_upload("scan_002.jpg")])
    assert [n.title for n in notes] == ["Letter – scan_001", "Letter – scan_002"]


def test_a_single_file_keeps_its_title(user, jpeg_upload):
    [note] = services.note_upload(user=user, title="Letter", files=[jpeg_upload("scan.jpg")])
    assert note.title == "Letter"


def test_files_of_one_name_in_a_batch_are_numbered(user, jpeg_upload):
    notes = services.note_upload(user=user, files=[jpeg_upload("page.jpg"),
                                                   jpeg_upload("page.jpg")])
    assert [n.title for n in notes] == ["page", "page (2)"]


def test_a_script_upload_leaves_the_uploaded_message_for_the_next_page(alice_client, user,
                                                                      jpeg_upload):
    response = alice_client.post(reverse("recognition:upload"),
                                 {"files": [jpeg_upload("a.jpg"), jpeg_upload("b.jpg")]},
                                 HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    html = alice_client.get(response.json()["redirect"]).content.decode()
    assert UPLOADED.format(notes="2 notes") in html


def test_home_upload_form_is_collapsed_once_there_are_notes(alice_client, user):
    assert "data-upload-panel open" in alice_client.get(reverse(HOME)).content.decode()
    make_note(user, title="a")
    html = alice_client.get(reverse(HOME)).content.decode()
    assert "data-upload-panel>" in html and 'type="file"' in html


# Zip names -----------------------------------------------------------------------------------

def test_zip_names_stay_distinct_when_the_id_suffix_is_taken_too():
    used = {"letter", "letter (12)"}
    assert archive.unique_stem("Letter", 12, used) == "Letter (12-2)"
    assert archive.unique_stem("Other", 12, used) == "Other"


# The unsure filter's SQL ------------------------------------------------------------------------

def test_unsure_filter_uses_the_partial_index_of_migration_0010(user, settings):
    from importlib import import_module

    from django.db import connection

    migration = import_module("recognition.migrations.0010_saved_searches")
    settings.NOTES_LOW_CONFIDENCE = library_selectors.INDEXED_THRESHOLD
    globs = " OR ".join(f"words GLOB '{p}'" for p in library_selectors.confidence_globs(0.6))
    assert f"WHERE corrected = 0 AND ({globs})" in migration.UNSURE_SQLITE
    assert (f"jsonb_path_exists(words, '{library_selectors.unsure_jsonpath(0.6)}')"
            in migration.UNSURE_POSTGRESQL)
    if connection.vendor == "sqlite":
        notes = library_selectors.note_library(
            user=user, filters=library_selectors.LibraryFilters(unsure=True))
        sql, params = notes.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(row) for row in cursor.fetchall())
        assert "USING INDEX line_unsure" in plan


@pytest.mark.parametrize("threshold,confidence,unsure", [
    (0.6, 0.5999, True), (0.6, 0.6, False), (0.6, 0, True), (0.6, 0.0, True), (0.6, 1, False),
    (0.65, 0.6, True), (0.65, 0.64, True), (0.65, 0.65, False), (0.05, 0.049, True),
    (0.05, 0.05, False), (0.6, 1e-05, True), (0.6, 0.99, False),
])
def test_unsure_filter_compares_confidences_exactly(user, settings, threshold, confidence,
                                                    unsure):
    settings.NOTES_LOW_CONFIDENCE = threshold
    note = make_note(user, title="x", lines=[("word", [confidence], False)])
    found = library_selectors.note_library(
        user=user, filters=library_selectors.LibraryFilters(unsure=True))
    assert list(found) == ([note] if unsure else [])
