"""Background recognition with the committed model: results, progress, idempotency, failures.

The task runs inline (NOTES_Q_SYNC=1); `execute=True` runs the on-commit hook that enqueues it.
"""

import pytest

from recognition import revisions, services, tasks
from recognition.exceptions import NoteBusyError
from recognition.models import Line, Note, RecognitionJob, SearchLine


@pytest.fixture
def upload_and_run(user, django_capture_on_commit_callbacks):
    def run(files, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            notes = services.note_upload(user=user, files=files, **kwargs)
        return [Note.objects.get(pk=n.pk) for n in notes]

    return run


def rerun(user, note, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.note_recognize(user=user, note=note)
    note.refresh_from_db()
    job.refresh_from_db()
    return job


def test_photo_is_recognized_into_lines_and_text(upload_and_run, jpeg_upload):
    [note] = upload_and_run([jpeg_upload()])
    assert note.status == Note.Status.DONE, note.error
    assert (note.pages_done, note.pages_total, note.progress_percent) == (1, 1, 100)
    page = note.pages.get()
    lines = list(page.lines.all())
    assert len(lines) >= 5  # the fixture page has ten handwritten lines
    assert note.text == "\n".join(line.text for line in lines if line.text)
    words = [w for line in lines for w in line.words]
    assert sum(len(line.text) for line in lines) > 50
    for line in lines:
        assert 0.0 <= line.confidence <= 1.0 and line.text == line.machine_text
        xs, ys = zip(*line.polygon, strict=True)
        assert 0 <= min(xs) < max(xs) <= page.width and 0 <= min(ys) < max(ys) <= page.height
    assert all("alternatives" in w and 0 <= w["confidence"] <= 1 for w in words)
    job = note.jobs.get()
    assert job.status == RecognitionJob.Status.DONE and job.attempts == 1
    assert job.model_version.startswith("crnn.pt") and job.finished >= job.started
    # Within the default budget (NOTES_PAGE_SECONDS=8) an ordinary page is read whole.
    assert not page.partial and page.unread_lines == 0 and all(line.read for line in lines)


def test_a_page_out_of_time_is_partly_read_and_the_note_still_done(
        upload_and_run, jpeg_upload, settings):
    settings.NOTES_PAGE_SECONDS = 0  # the time is up before the first line is read
    [note] = upload_and_run([jpeg_upload()])
    assert note.status == Note.Status.DONE and note.error == ""
    assert note.jobs.get().status == RecognitionJob.Status.DONE
    page = note.pages.get()
    assert page.recognized and page.partial and page.unread_lines >= 5
    lines = list(page.lines.all())
    assert len(lines) == page.unread_lines  # located, stored, and none of them read
    for line in lines:
        assert not line.read and line.text == line.machine_text == "" and line.words == []
        assert len(line.polygon) >= 3 and len(line.baseline) >= 2
    assert note.text == ""
    assert not SearchLine.objects.filter(note_id=note.pk).exists()  # empty lines: no entries
    assert note.revisions.get().summary.endswith("; partly read: page 1")


def test_recognizing_again_with_time_reads_the_unread_lines(
        user, upload_and_run, jpeg_upload, settings, django_capture_on_commit_callbacks):
    settings.NOTES_PAGE_SECONDS = 0
    [note] = upload_and_run([jpeg_upload()])
    settings.NOTES_PAGE_SECONDS = 8

    job = rerun(user, note, django_capture_on_commit_callbacks)

    assert job.status == RecognitionJob.Status.DONE
    page = note.pages.get()
    assert not page.partial and page.unread_lines == 0
    assert all(line.read for line in page.lines.all()) and len(note.text) > 50


def test_every_pdf_page_is_recognized(upload_and_run, pdf_upload):
    [note] = upload_and_run([pdf_upload(pages=2)])
    assert note.status == Note.Status.DONE, note.error
    assert note.pages_done == note.pages_total == 2
    pages = list(note.pages.all())
    assert [p.number for p in pages] == [1, 2]
    assert all(p.lines.count() >= 5 and p.recognized for p in pages)
    assert note.text.count("\n\n") >= 1  # pages are separated by a blank line


def test_rerun_replaces_machine_lines_and_keeps_corrections(
        user, upload_and_run, jpeg_upload, django_capture_on_commit_callbacks):
    [note] = upload_and_run([jpeg_upload()])
    first = list(Line.objects.filter(page__note=note).order_by("order"))
    corrected = first[1]
    corrected.text, corrected.corrected = "Fixed by a person", True
    corrected.save()

    job = rerun(user, note, django_capture_on_commit_callbacks)

    assert job.status == RecognitionJob.Status.DONE and note.jobs.count() == 2
    again = list(Line.objects.filter(page__note=note).order_by("order"))
    assert len(again) == len(first)  # replaced, not added
    kept = Line.objects.get(pk=corrected.pk)
    assert kept.text == "Fixed by a person" and kept.corrected and kept.order == 1
    assert "Fixed by a person" in note.text
    assert note.pages.count() == 1  # the page image was reused


def test_rerun_keeps_lines_typed_in_by_hand(user, upload_and_run, jpeg_upload,
                                            django_capture_on_commit_callbacks):
    """A line typed in has no region on the image: it overlaps no machine line."""
    [note] = upload_and_run([jpeg_upload()])
    text = "\n".join(line.text for line in note.pages.get().lines.all()) + "\na line typed in"
    revisions.pages_text_replace(user=user, note=note, pages={1: text},
                                 base_revision=note.revision)

    job = rerun(user, note, django_capture_on_commit_callbacks)

    assert job.status == RecognitionJob.Status.DONE, job.error
    typed = Line.objects.get(page__note=note, text="a line typed in")
    assert typed.polygon == [] and typed.corrected
    assert note.text.endswith("a line typed in")


def test_a_redelivered_task_does_not_duplicate_anything(upload_and_run, jpeg_upload):
    """The ORM broker re-delivers a task whose worker died: running the same job twice."""
    [note] = upload_and_run([jpeg_upload()])
    lines = Line.objects.filter(page__note=note).count()
    # As a worker that died after its last page left them:
    Note.objects.filter(pk=note.pk).update(status=Note.Status.PROCESSING, pages_done=0)
    note.jobs.update(status=RecognitionJob.Status.RUNNING)

    tasks.recognize_note(note.jobs.get().pk)

    note.refresh_from_db()
    assert note.status == Note.Status.DONE and note.pages_done == 1
    assert Line.objects.filter(page__note=note).count() == lines
    assert note.pages.count() == 1 and note.jobs.get().attempts == 2


def test_a_failure_is_recorded_readably_and_can_be_retried(
        user, upload_and_run, jpeg_upload, settings, tmp_path,
        django_capture_on_commit_callbacks):
    model = settings.NOTES_MODEL_PATH
    settings.NOTES_MODEL_PATH = tmp_path / "missing.pt"
    [note] = upload_and_run([jpeg_upload()])
    assert note.status == Note.Status.FAILED
    assert note.error == ("Recognition failed unexpectedly (CheckpointError). "
                          "Retry it, or contact us if it fails again.")
    assert str(tmp_path) not in note.error  # no server paths in user-facing messages
    assert note.jobs.get().status == RecognitionJob.Status.FAILED

    settings.NOTES_MODEL_PATH = model
    job = rerun(user, note, django_capture_on_commit_callbacks)
    assert job.status == RecognitionJob.Status.DONE
    assert note.status == Note.Status.DONE and note.error == ""


def test_a_queued_note_cannot_be_queued_twice(user, jpeg_upload):
    [note] = services.note_upload(user=user, files=[jpeg_upload()])  # not run: still queued
    with pytest.raises(NoteBusyError, match="already being recognized"):
        services.note_recognize(user=user, note=note)
    assert note.jobs.count() == 1


def test_a_job_whose_note_was_deleted_is_dropped(user, jpeg_upload):
    [note] = services.note_upload(user=user, files=[jpeg_upload()])
    job_id = note.jobs.get().pk
    services.note_delete(user=user, note=note)
    tasks.recognize_note(job_id)  # nothing to do, nothing raised
    assert not RecognitionJob.objects.exists()
