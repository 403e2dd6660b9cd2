"""`manage.py recognize_again`: re-reading many notes, e.g. after a model update."""

import io

import pytest
from django.core.management import CommandError, call_command

from recognition import services
from recognition.models import Note, Page, RecognitionJob


def run(*args) -> str:
    out = io.StringIO()
    call_command("recognize_again", *args, stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def notes(user, other_user, jpeg_upload):
    mine = services.note_upload(user=user, files=[jpeg_upload(), jpeg_upload()])
    theirs = services.note_upload(user=other_user, files=[jpeg_upload()])
    Note.objects.update(status=Note.Status.DONE)
    RecognitionJob.objects.update(status=RecognitionJob.Status.DONE, model_version="old 2025")
    Note.objects.filter(pk=mine[0].pk).update(status=Note.Status.FAILED, error="boom")
    return mine + theirs


def test_queues_every_finished_note(notes):
    assert run() == "queued 3 note(s)"
    assert set(Note.objects.values_list("status", flat=True)) == {"queued"}
    assert RecognitionJob.objects.count() == 6


def test_filters_by_user_and_failure(notes):
    assert run("--user", "alice", "--failed", "--dry-run") == "would queue 1 note(s)"
    assert RecognitionJob.objects.count() == 3
    assert run("--user", "alice") == "queued 2 note(s)"
    assert Note.objects.get(pk=notes[2].pk).status == "done"  # bob's untouched


def test_outdated_compares_with_the_configured_model(notes):
    from recognition import ocr

    RecognitionJob.objects.filter(note=notes[1]).update(model_version=ocr.model_version())
    assert run("--outdated") == "queued 2 note(s)"
    assert Note.objects.get(pk=notes[1].pk).status == "done"
    assert run("--outdated") == "queued 0 note(s)"  # the others are queued now


def test_outdated_compares_with_the_model_that_reads_each_owners_notes(notes, user):
    """Alice reads with a personal model: her notes read by the site's model are outdated,
    Bob's are not."""
    from recognition import ocr
    from recognition.models import PersonalModel

    site = ocr.model_version()
    RecognitionJob.objects.update(model_version=site)
    mine = PersonalModel.objects.create(owner=user, status=PersonalModel.Status.PROMOTED,
                                        file="x.pt", active=True, base_version=site)
    RecognitionJob.objects.filter(note=notes[1]).update(model_version=mine.version)
    assert run("--outdated", "--dry-run") == "would queue 1 note(s)"
    assert run("--outdated") == "queued 1 note(s)"
    assert Note.objects.get(pk=notes[0].pk).status == "queued"


def test_partial_selects_notes_with_a_partly_read_page(notes):
    failed, mine, theirs = notes
    for note, partial in ((mine, False), (mine, True), (theirs, False)):
        number = note.pages.count() + 1
        Page.objects.create(note=note, number=number, image=f"p{number}.jpg", width=10,
                            height=10, recognized=True, partial=partial,
                            unread_lines=3 if partial else 0)
    assert run("--partial", "--user", "bob") == "queued 0 note(s)"
    assert run("--partial") == "queued 1 note(s)"
    statuses = dict(Note.objects.values_list("pk", "status"))
    assert statuses == {failed.pk: "failed", mine.pk: "queued", theirs.pk: "done"}


def test_unknown_user_is_an_error(notes):
    with pytest.raises(CommandError, match="No notes for user 'carol'"):
        run("--user", "carol")


def test_model_standard_reads_every_note_with_the_site_model(notes, user):
    from recognition.models import PersonalModel

    PersonalModel.objects.create(owner=user, status=PersonalModel.Status.PROMOTED, file="x.pt",
                                 active=True)
    assert run("--model", "standard") == "queued 3 note(s)"
    queued = RecognitionJob.objects.filter(status=RecognitionJob.Status.QUEUED)
    assert set(queued.values_list("model_request", "requested_model")) == {("standard", None)}


def test_model_id_reads_only_its_owners_notes_with_it(notes, user, other_user):
    from recognition.models import PersonalModel

    mine = PersonalModel.objects.create(owner=user, status=PersonalModel.Status.PROMOTED,
                                        file="x.pt")
    assert run("--model", str(mine.pk)) == "queued 2 note(s)"
    queued = RecognitionJob.objects.filter(status=RecognitionJob.Status.QUEUED)
    assert set(queued.values_list("note__owner", "model_request", "requested_model")) == {
        (user.pk, "personal", mine.pk)}
    with pytest.raises(CommandError, match=f"Personal model {mine.pk} is alice's"):
        run("--model", str(mine.pk), "--user", "bob")
    kept = PersonalModel.objects.create(owner=other_user, status=PersonalModel.Status.KEPT_OLD)
    for value in (str(kept.pk), "9999", "newest"):
        with pytest.raises(CommandError):
            run("--model", value)
    assert RecognitionJob.objects.count() == 5  # the two queued above, no more
