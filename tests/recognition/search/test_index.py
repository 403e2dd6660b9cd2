"""The index follows every change of a note: edits, reverts, re-recognition, deletion."""

import importlib

import pytest

from recognition import revisions, services
from recognition.models import Line, Revision, SearchLine, SearchVocabulary, SearchWord
from recognition.search import index
from recognition.search.query import search


def texts(hits) -> list[str]:
    return [hit.text for hit in hits]


def vocabulary(user) -> dict[str, int]:
    return dict(SearchWord.objects.filter(owner=user).values_list("word", "lines"))


@pytest.fixture
def note(user, make_note):
    return make_note(user, ["the quick brown fox", "jumps over the lazy dog"])


def first_line(note) -> Line:
    return Line.objects.filter(page__note=note).order_by("order").first()


@pytest.mark.django_db
def test_indexing_stores_words_and_counts_lines_per_word(user, note):
    assert sorted(SearchLine.objects.filter(note_id=note.pk).values_list("terms", flat=True)) \
        == ["jumps over the lazy dog", "the quick brown fox"]
    words = vocabulary(user)
    assert words["the"] == 2 and words["fox"] == 1 and words["dog"] == 1


@pytest.mark.django_db
def test_an_edit_replaces_the_lines_words(user, note, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        revisions.lines_update(user=user, note=note, edits={first_line(note).pk: "a slow cat"},
                               base_revision=note.revision)
    assert search(user, "quick") == []
    assert texts(search(user, "slow")) == ["a slow cat"]
    words = vocabulary(user)
    assert "quick" not in words and "fox" not in words and words["cat"] == 1
    assert words["the"] == 1


@pytest.mark.django_db
def test_a_revert_brings_the_old_words_back(user, note, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        revisions.lines_update(user=user, note=note, edits={first_line(note).pk: "a slow cat"},
                               base_revision=note.revision)
    note.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        revisions.revision_revert(user=user, note=note, number=1, base_revision=note.revision)
    assert texts(search(user, "quick")) == ["the quick brown fox"] and search(user, "slow") == []


@pytest.mark.django_db
def test_re_recognition_replaces_machine_lines(user, note, django_capture_on_commit_callbacks):
    """A recognition run deletes the machine's lines and stores new ones (new ids)."""
    page = note.pages.get()
    with django_capture_on_commit_callbacks(execute=True):
        page.lines.all().delete()
        Line.objects.create(page=page, order=0, text="a newer reading",
                            machine_text="a newer reading",
                            polygon=[[0, 0], [10, 0], [10, 10], [0, 10]])
        # Between the deletion and the run's end, the old entries must not be found.
        assert search(user, "quick") == []
        revisions.revision_record(note=note, kind=Revision.Kind.MACHINE, summary="Recognized")
    assert texts(search(user, "newer")) == ["a newer reading"]
    assert list(SearchLine.objects.filter(note_id=note.pk).values_list("line_id", flat=True)) \
        == list(Line.objects.filter(page=page).values_list("pk", flat=True))
    assert set(vocabulary(user)) == {"newer", "reading"}  # "a": too short to be a typo target


@pytest.mark.django_db
def test_deleting_a_note_removes_it_from_search(user, note, make_note,
                                                django_capture_on_commit_callbacks):
    make_note(user, ["the end"])
    with django_capture_on_commit_callbacks(execute=True):
        services.note_delete(user=user, note=note)
    assert search(user, "fox") == [] and search(user, "foz") == []
    assert not SearchLine.objects.filter(note_id=note.pk).exists()
    assert vocabulary(user) == {"the": 1, "end": 1}


@pytest.mark.django_db
def test_deleting_a_collection_removes_its_notes(user, note, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.collection_delete(user=user, collection=note.collection)
    assert SearchLine.objects.count() == 0 and vocabulary(user) == {}


@pytest.mark.django_db
def test_indexing_again_changes_nothing(user, note):
    before = (list(SearchLine.objects.order_by("pk").values_list("pk", "terms")), vocabulary(user))
    assert index.note_index(note_id=note.pk) == 2
    assert (list(SearchLine.objects.order_by("pk").values_list("pk", "terms")),
            vocabulary(user)) == before


@pytest.mark.django_db
def test_lines_without_words_have_no_entry(user, note, django_capture_on_commit_callbacks):
    """A line located but not read has no text: nothing to find, so nothing in the index."""
    page = note.pages.get()
    with django_capture_on_commit_callbacks(execute=True):
        blank = Line.objects.create(page=page, order=2, text="", read=False,
                                    polygon=[[10, 210], [900, 210], [900, 280], [10, 280]])
        revisions.revision_record(note=note, kind=Revision.Kind.MACHINE, summary="Recognized")
    assert index.note_index(note_id=note.pk) == 2
    assert not SearchLine.objects.filter(line_id=blank.pk).exists()


@pytest.mark.django_db
def test_indexing_a_note_deleted_meanwhile_unindexes_it(user, note):
    note_id = note.pk
    note.delete()  # no signal: as if the index saw the change after the deletion
    assert index.note_index(note_id=note_id) == 0
    assert not SearchLine.objects.filter(note_id=note_id).exists() and vocabulary(user) == {}


@pytest.mark.slow
@pytest.mark.django_db
def test_a_real_recognition_run_indexes_the_note(user, jpeg_upload,
                                                 django_capture_on_commit_callbacks):
    """Upload, recognize with the committed model (tasks run inline), then search a word."""
    with django_capture_on_commit_callbacks(execute=True):
        [note] = services.note_upload(user=user, files=[jpeg_upload()])
    lines = list(Line.objects.filter(page__note=note).exclude(text=""))
    indexed = set(SearchLine.objects.filter(note_id=note.pk).values_list("line_id", flat=True))
    assert lines and indexed == {line.pk for line in lines if index.line_terms(
        line_text=line.text, machine_text=line.machine_text, words=line.words,
        corrected=line.corrected) != ("", "")}
    word = max(lines[0].text.split(), key=len)
    assert lines[0].pk in {hit.line_id for hit in search(user, word)}


@pytest.mark.django_db
def test_the_migration_indexes_notes_recognized_before_search(user, note):
    from django.apps import apps

    migration = importlib.import_module("recognition.migrations.0004_search")
    before = vocabulary(user)
    for model in (SearchLine, SearchWord, SearchVocabulary):
        model.objects.all().delete()
    migration.index_existing_notes(apps, schema_editor=None)
    assert texts(search(user, "quick")) == ["the quick brown fox"]
    assert vocabulary(user) == before


@pytest.mark.django_db
def test_the_vocabulary_in_memory_is_read_again_after_a_change(user, note, make_note):
    from recognition.search.vocabulary import vocabulary

    first = vocabulary(user.pk)
    assert vocabulary(user.pk) is first and first.lines["fox"] == 1
    make_note(user, ["a red fox"])
    second = vocabulary(user.pk)
    assert second is not first and second.lines["fox"] == 2 and "red" in second.words(3, 3)
