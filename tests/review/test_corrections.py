"""Inline correction in the line queue: through the owners' editing services (a revision in
the staff member's name, the search index, `corrected`), conflicts shown, raw edits refused."""

import pytest
from django.urls import reverse

from recognition import revisions
from recognition.admin.lines import CONFLICT, SAVED
from recognition.models import Line, LineReview, Note, Page, Revision, StaffAction
from recognition.search.query import search

QUEUE = reverse("admin:recognition_line_changelist")


def correction(line: Line, text: str, *, shown_text: str | None = None,
               base: int | None = None) -> dict:
    """What the queue posts for one row edited to `text` (shown as `shown_text` at `base`)."""
    return {f"correct-{line.pk}": text,
            f"original-{line.pk}": line.text if shown_text is None else shown_text,
            f"base-{line.pk}": line.page.note.revision if base is None else base}


def save(client, data: dict, captured, query: str = ""):
    with captured(execute=True):
        return client.post(QUEUE + query, {"_correct": "1", **data}, follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def line(recognized_note):
    return (Line.objects.filter(page__note=recognized_note, read=True)
            .select_related("page__note").order_by("order")[0])


def test_a_correction_is_a_revision_in_the_staff_members_name(
        reviewer_client, reviewer, recognized_note, line, django_capture_on_commit_callbacks):
    before = recognized_note.revision
    response = save(reviewer_client, correction(line, "zebrafinch migration"),
                    django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert messages_of(response) == [SAVED.format(count=1, notes=1)]
    line.refresh_from_db()
    recognized_note.refresh_from_db()
    assert line.text == "zebrafinch migration" and line.corrected
    assert recognized_note.revision == before + 1
    revision = Revision.objects.get(note=recognized_note, number=before + 1)
    assert revision.kind == Revision.Kind.EDIT and revision.author == reviewer
    assert "zebrafinch migration" in recognized_note.text
    assert LineReview.objects.get(line=line).reviewer == reviewer


def test_a_corrected_line_is_found_by_search(reviewer_client, user, line,
                                             django_capture_on_commit_callbacks):
    assert search(user, "zebrafinch") == []
    save(reviewer_client, correction(line, "zebrafinch migration"),
         django_capture_on_commit_callbacks)
    assert [hit.text for hit in search(user, "zebrafinch")] == ["zebrafinch migration"]


def test_a_corrected_line_survives_a_new_recognition(
        reviewer_client, recognized_note, line, django_capture_on_commit_callbacks):
    save(reviewer_client, correction(line, "zebrafinch migration"),
         django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        reviewer_client.post(reverse("admin:recognition_note_changelist"),
                             {"action": "rerun", "_selected_action": [recognized_note.pk],
                              "index": "0"})
    recognized_note.refresh_from_db()
    assert recognized_note.status == Note.Status.DONE
    assert recognized_note.jobs.count() == 2
    kept = Line.objects.get(pk=line.pk)
    assert kept.text == "zebrafinch migration" and kept.corrected
    assert "zebrafinch migration" in recognized_note.text


def test_a_conflicting_correction_is_shown_and_not_saved(
        reviewer_client, user, make_note, django_capture_on_commit_callbacks):
    note = make_note(user, [("the quick brown fox", 0.3)])
    line = Line.objects.select_related("page__note").get(page__note=note)
    shown = note.revision
    revisions.lines_update(user=user, note=note, edits={line.pk: "the owner's words"},
                           base_revision=shown)
    response = save(reviewer_client, correction(line, "the staff's words",
                                                shown_text="the quick brown fox", base=shown),
                    django_capture_on_commit_callbacks)
    assert messages_of(response) == [CONFLICT.format(
        line=line.pk, title=note.title, base=shown, current=shown + 1,
        current_text="the owner's words", text="the staff's words")]
    line.refresh_from_db()
    note.refresh_from_db()
    assert line.text == "the owner's words" and note.revision == shown + 1
    assert not LineReview.objects.filter(line=line).exists()


def test_only_rows_edited_on_the_page_are_saved(reviewer_client, user, make_note,
                                                django_capture_on_commit_callbacks):
    note = make_note(user, [("first line", 0.3), ("second line", 0.4)])
    first, second = Line.objects.select_related("page__note").filter(page__note=note)
    data = {**correction(first, "first line, corrected"), **correction(second, second.text)}
    save(reviewer_client, data, django_capture_on_commit_callbacks)
    revision = Revision.objects.get(note=note, number=note.revision + 1)
    assert revision.summary == "Line 1 edited"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.revision == revision.number and first.corrected
    assert second.revision == note.revision and not second.corrected


def test_a_correction_writes_one_audit_entry(reviewer_client, reviewer, user, make_note,
                                             django_capture_on_commit_callbacks):
    note = make_note(user, [("first line", 0.3), ("second line", 0.4)])
    first, second = Line.objects.select_related("page__note").filter(page__note=note)
    save(reviewer_client, {**correction(first, "one"), **correction(second, "two")},
         django_capture_on_commit_callbacks)
    entry = StaffAction.objects.get()
    assert (entry.actor, entry.action, entry.target) == (reviewer, "correct", "recognition.line")
    assert entry.view == "admin:recognition_line_changelist"
    assert sorted(entry.object_ids) == sorted([first.pk, second.pk])
    assert entry.detail["revisions"] == {str(note.pk): note.revision + 1}
    assert sorted(entry.detail["saved"]) == sorted([first.pk, second.pk])


def test_a_reviewer_without_the_right_to_correct_gets_403(
        client, user, make_note, django_capture_on_commit_callbacks):
    from tests.factories import UserFactory
    from tests.review.conftest import grant

    viewer = UserFactory(username="viewer", is_staff=True)
    grant(viewer, "recognition.view_line")
    client.force_login(viewer)
    note = make_note(user, [("first line", 0.3)])
    line = Line.objects.select_related("page__note").get(page__note=note)
    assert "correct-" not in client.get(QUEUE).content.decode()
    response = client.post(QUEUE, {"_correct": "1", **correction(line, "changed")})
    assert response.status_code == 403
    line.refresh_from_db()
    assert line.text == "first line" and StaffAction.objects.count() == 0


# Raw edits in the admin --------------------------------------------------------------------

@pytest.mark.parametrize("model", ["line", "page", "revision", "note"])
def test_raw_edits_are_refused_even_to_superusers(superuser_client, user, make_note, model):
    note = make_note(user, [("first line", 0.3)])
    obj = {"line": Line.objects.get(page__note=note), "page": Page.objects.get(note=note),
           "revision": Revision.objects.get(note=note), "note": note}[model]
    change = reverse(f"admin:recognition_{model}_change", args=[obj.pk])
    assert superuser_client.get(change).status_code == 200  # shown, read-only
    response = superuser_client.post(change, {"text": "raw edit", "title": "raw edit"})
    assert response.status_code == 403
    assert superuser_client.get(reverse(f"admin:recognition_{model}_add")).status_code == 403
    delete = reverse(f"admin:recognition_{model}_delete", args=[obj.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    line = Line.objects.get(page__note=note)
    assert line.text == "first line" and Note.objects.get(pk=note.pk).title == "Notes"


def test_a_correction_of_a_line_gone_meanwhile_is_reported(
        reviewer_client, user, make_note, django_capture_on_commit_callbacks):
    from recognition.review import ERROR_LINE_GONE

    note = make_note(user, [("first line", 0.3)])
    line = Line.objects.select_related("page__note").get(page__note=note)
    data, line_id = correction(line, "too late"), line.pk
    line.delete()  # a new recognition replaced it
    response = save(reviewer_client, data, django_capture_on_commit_callbacks)
    assert messages_of(response) == [ERROR_LINE_GONE.format(line_id=line_id)]
    assert Revision.objects.filter(note=note).count() == 1


def test_a_correction_of_a_note_being_recognized_is_refused(
        reviewer_client, user, make_note, django_capture_on_commit_callbacks):
    note = make_note(user, [("first line", 0.3)])
    line = Line.objects.select_related("page__note").get(page__note=note)
    Note.objects.filter(pk=note.pk).update(status=Note.Status.PROCESSING)
    response = save(reviewer_client, correction(line, "changed"),
                    django_capture_on_commit_callbacks)
    assert messages_of(response) == [f"Notes: {revisions.ERROR_BUSY}"]
    line.refresh_from_db()
    assert line.text == "first line" and not line.corrected
