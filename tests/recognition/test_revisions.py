"""Line edits, whole-page edits, revision history, reverts and stale-revision conflicts."""

import pytest

from recognition import revisions, selectors
from recognition.exceptions import RecognitionAppError
from recognition.models import Line, Note
from recognition.revisions import LineTooLong, RevisionConflict
from recognition.selectors import revision_diff


@pytest.fixture
def note(text_note):
    return text_note


def lines_of(note):
    return list(Line.objects.filter(page__note=note).order_by("page__number", "order"))


def test_recognition_is_revision_one(note):
    assert note.revision == 1
    [revision] = selectors.revision_lines_attach(revisions=note.revisions.all())
    assert revision.kind == "machine" and revision.author is None
    assert note.text == "the quick brown fox\njumps over the lazy dog\n\nsecond page here"
    assert revision.text == note.text


def test_a_line_edit_makes_a_revision_and_marks_the_line_corrected(user, note):
    first, second, third = lines_of(note)
    revision = revisions.lines_update(user=user, note=note, edits={second.pk: " jumped over\t"},
                                      base_revision=1)
    assert revision.number == 2 and revision.kind == "edit" and revision.author == user
    assert revision.summary == "Line 2 of page 1 edited"
    second.refresh_from_db()
    assert second.text == "jumped over" and second.corrected and second.revision == 2
    assert second.machine_text == "jumps over the lazy dog"  # the machine's reading is kept
    note.refresh_from_db()
    assert note.revision == 2 and "jumped over" in note.text
    first.refresh_from_db()
    assert first.revision == 1 and not first.corrected


def test_saving_unchanged_text_makes_no_revision(user, note):
    first = lines_of(note)[0]
    assert revisions.lines_update(user=user, note=note, edits={first.pk: first.text},
                                  base_revision=1) is None
    assert note.revisions.count() == 1


def test_a_stale_edit_of_the_same_line_is_refused(user, note):
    first = lines_of(note)[0]
    revisions.lines_update(user=user, note=note, edits={first.pk: "tab one"}, base_revision=1)
    with pytest.raises(RevisionConflict) as conflict:
        revisions.lines_update(user=user, note=note, edits={first.pk: "tab two"},
                               base_revision=1)
    assert conflict.value.current == 2 and conflict.value.lines == {first.pk: "tab one"}
    assert "changed (revision 2) after you opened it (revision 1)" in str(conflict.value)
    first.refresh_from_db()
    assert first.text == "tab one"  # nothing overwritten


def test_a_stale_edit_of_another_line_goes_through(user, note):
    first, second, _ = lines_of(note)
    revisions.lines_update(user=user, note=note, edits={first.pk: "tab one"}, base_revision=1)
    revision = revisions.lines_update(user=user, note=note, edits={second.pk: "tab two"},
                                      base_revision=1)
    assert revision.number == 3
    assert [line.text for line in lines_of(note)[:2]] == ["tab one", "tab two"]


def test_lines_of_another_note_cannot_be_edited(user, note):
    other = Note.objects.create(owner=user, collection=note.collection, title="x", kind="image",
                                content_type="image/jpeg", size=1, sha256="0", original="o",
                                status="done")
    line = lines_of(note)[0]
    with pytest.raises(RecognitionAppError, match=f"Line {line.pk} is not part of this note"):
        revisions.lines_update(user=user, note=other, edits={line.pk: "x"}, base_revision=0)


def test_another_user_cannot_edit(other_user, note):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        revisions.lines_update(user=other_user, note=note, edits={}, base_revision=1)


def test_editing_during_recognition_is_refused(user, note):
    Note.objects.filter(pk=note.pk).update(status="processing")
    with pytest.raises(RecognitionAppError, match="being recognized"):
        revisions.lines_update(user=user, note=note, edits={}, base_revision=1)


def test_whole_page_edit_keeps_regions_of_edited_lines(user, note):
    first, second, third = lines_of(note)
    revision = revisions.pages_text_replace(
        user=user, note=note, base_revision=1,
        pages={1: "the quick brown fox\njumps over a lazy dog\nand a new line typed in\n"})
    assert revision.number == 2
    page_one = [line for line in lines_of(note) if line.page.number == 1]
    assert [line.text for line in page_one] == [
        "the quick brown fox", "jumps over a lazy dog", "and a new line typed in"]
    assert page_one[1].pk == second.pk and page_one[1].polygon == second.polygon
    assert page_one[2].polygon == [] and page_one[2].corrected
    assert not page_one[0].corrected
    assert lines_of(note)[-1].pk == third.pk  # page 2 untouched


def test_whole_page_edit_deletes_removed_lines(user, note):
    first, second, _ = lines_of(note)
    revisions.pages_text_replace(user=user, note=note, base_revision=1,
                                 pages={1: "jumps over the lazy dog"})
    assert not Line.objects.filter(pk=first.pk).exists()
    note.refresh_from_db()
    assert note.text == "jumps over the lazy dog\n\nsecond page here"


def unread_lines(note, count: int) -> list[Line]:
    """Lines located on page 1 but not read (the page's time ran out), after its lines."""
    page = note.pages.get(number=1)
    start = page.lines.count()
    return [Line.objects.create(page=page, order=order, text="", read=False,
                                polygon=[[0, 100 * order], [900, 100 * order],
                                         [900, 100 * order + 80], [0, 100 * order + 80]])
            for order in range(start, start + count)]


def test_whole_page_edit_fills_lines_not_read_and_keeps_the_blank_ones(user, note):
    first, second = unread_lines(note, 2)
    revisions.pages_text_replace(
        user=user, note=note, base_revision=1,
        pages={1: "the quick brown fox\r\njumps over the lazy dog\r\ntyped in place\r\n"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.text == "typed in place" and first.corrected
    assert first.polygon == [[0, 200], [900, 200], [900, 280], [0, 280]]  # its place kept
    assert second.text == "" and not second.read and not second.corrected
    note.refresh_from_db()
    assert note.text == ("the quick brown fox\njumps over the lazy dog\ntyped in place"
                         "\n\nsecond page here")


def test_whole_page_edit_needs_the_current_revision(user, note):
    first = lines_of(note)[0]
    revisions.lines_update(user=user, note=note, edits={first.pk: "x"}, base_revision=1)
    with pytest.raises(RevisionConflict):
        revisions.pages_text_replace(user=user, note=note, pages={2: "y"}, base_revision=1)


def test_revert_restores_text_and_deleted_lines(user, note):
    original = note.text
    first, second, _ = lines_of(note)
    revisions.lines_update(user=user, note=note, edits={second.pk: "edited"}, base_revision=1)
    revisions.pages_text_replace(user=user, note=note, base_revision=2, pages={1: "edited"})
    assert not Line.objects.filter(pk=first.pk).exists()

    revision = revisions.revision_revert(user=user, note=note, number=1, base_revision=3)

    assert revision.number == 4 and revision.kind == "revert"
    assert revision.summary == "Reverted to revision 1"
    note.refresh_from_db()
    assert note.text == original
    restored = lines_of(note)[0]
    assert restored.text == "the quick brown fox" and restored.polygon == first.polygon
    assert [r.number for r in note.revisions.all()] == [4, 3, 2, 1]


def test_revert_to_an_unknown_revision(user, note):
    with pytest.raises(RecognitionAppError, match="no revision 9"):
        revisions.revision_revert(user=user, note=note, number=9, base_revision=1)


def test_diff_leaves_out_lines_without_text_before_and_after():
    """Lines located but not read are blank in both revisions: nothing to compare."""
    old = [{"id": 1, "page": 1, "text": "a"}, {"id": 2, "page": 1, "text": ""},
           {"id": 3, "page": 1, "text": ""}]
    new = [{"id": 1, "page": 1, "text": "a"}, {"id": 2, "page": 1, "text": "typed"},
           {"id": 4, "page": 1, "text": ""}]
    assert [(row.kind, row.old, row.new) for row in revision_diff(old, new)] == [
        ("same", "a", "a"), ("changed", "", "typed")]


def test_a_line_over_the_length_limit_is_refused(user, note, settings):
    settings.NOTES_MAX_LINE_CHARS = 10
    first = lines_of(note)[0]
    with pytest.raises(LineTooLong) as refused:
        revisions.lines_update(user=user, note=note, edits={first.pk: "x" * 11},
                               base_revision=1)
    assert str(refused.value) == ("Line 1 of page 1 is 11 characters long; a line may have at "
                                  "most 10.")
    first.refresh_from_db()
    assert first.text == "the quick brown fox" and note.revisions.count() == 1


def test_a_line_at_the_length_limit_is_saved(user, note, settings):
    settings.NOTES_MAX_LINE_CHARS = 10
    first = lines_of(note)[0]
    revisions.lines_update(user=user, note=note, edits={first.pk: " " + "x" * 10 + "  "},
                           base_revision=1)  # counted after the outer spaces are trimmed
    first.refresh_from_db()
    assert first.text == "x" * 10


def test_a_whole_page_edit_with_a_line_over_the_limit_changes_nothing(user, note, settings):
    settings.NOTES_MAX_LINE_CHARS = 20
    with pytest.raises(LineTooLong, match="^Line 3 of page 2 is 21 characters long; a line "
                                          "may have at most 20.$"):
        revisions.pages_text_replace(user=user, note=note, base_revision=1, pages={
            1: "fine", 2: "second page here\n\n" + "y" * 21})
    assert [line.text for line in lines_of(note)] == [
        "the quick brown fox", "jumps over the lazy dog", "second page here"]
    assert note.revisions.count() == 1
