"""The life of a recognition job: claimed only while queued or running, timed from its last
sign of life, one at a time per note, and never two runs writing one note.

Races are played out in one process: the competing event (a stall check, a retry) happens in
between two steps of a run, at the point where a second worker could have done it.
"""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from recognition import ocr, runs, services, tasks
from recognition.exceptions import NoteBusyError
from recognition.models import Line, Note, RecognitionJob


@pytest.fixture
def queued_note(user, jpeg_upload):
    """An uploaded note whose job was handed to the broker but not run yet."""
    [note] = services.note_upload(user=user, files=[jpeg_upload()])
    return note


def run(job):
    tasks.recognize_note(job.pk)
    job.refresh_from_db()
    return job


def ago(seconds):
    return timezone.now() - dt.timedelta(seconds=seconds)


def retry(user, note, capture):
    with capture(execute=True):
        job = services.note_recognize(user=user, note=note)
    job.refresh_from_db()
    return job


def test_a_job_that_waited_hours_in_the_queue_is_not_failed(queued_note):
    # A `recognize_again` over thousands of pages: jobs wait long, and nothing is wrong.
    queued_note.jobs.update(created=ago(5 * 3600))
    assert tasks.expire_stale_jobs() == 0
    job = run(queued_note.jobs.get())
    assert job.status == RecognitionJob.Status.DONE


def test_a_long_run_with_a_fresh_heartbeat_is_not_failed(queued_note):
    queued_note.jobs.update(status=RecognitionJob.Status.RUNNING, created=ago(7200),
                            started=ago(7000), heartbeat=ago(5))
    assert tasks.expire_stale_jobs() == 0
    assert queued_note.jobs.get().status == RecognitionJob.Status.RUNNING


def test_a_stalled_run_is_failed_and_queued_again_once(queued_note, settings,
                                                       django_capture_on_commit_callbacks):
    stalled = queued_note.jobs.get()
    RecognitionJob.objects.filter(pk=stalled.pk).update(
        status=RecognitionJob.Status.RUNNING, started=ago(600),
        heartbeat=ago(settings.NOTES_JOB_STALL_SECONDS + 1))

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.expire_stale_jobs() == 1

    stalled.refresh_from_db()
    assert stalled.status == RecognitionJob.Status.FAILED and "did not finish" in stalled.error
    retried = queued_note.jobs.exclude(pk=stalled.pk).get()
    assert retried.status == RecognitionJob.Status.DONE  # ran inline (NOTES_Q_SYNC)
    queued_note.refresh_from_db()
    assert queued_note.status == Note.Status.DONE

    # The broker re-delivers the stalled job's task later: it finds its job failed.
    lines = list(Line.objects.filter(page__note=queued_note).values_list("pk", flat=True))
    assert run(stalled).status == RecognitionJob.Status.FAILED and stalled.attempts == 0
    assert list(Line.objects.filter(page__note=queued_note).values_list("pk", flat=True)) == lines


def test_a_note_that_stalls_twice_in_a_row_is_not_retried_again(queued_note, settings):
    first = queued_note.jobs.get()
    RecognitionJob.objects.filter(pk=first.pk).update(status=RecognitionJob.Status.FAILED,
                                                      error=runs.ERROR_INTERRUPTED,
                                                      created=ago(1200))
    second = RecognitionJob.objects.create(note=queued_note, status=RecognitionJob.Status.RUNNING,
                                           heartbeat=ago(settings.NOTES_JOB_STALL_SECONDS + 1))
    assert tasks.expire_stale_jobs() == 1
    assert list(queued_note.jobs.values_list("status", flat=True)) == ["failed", "failed"]
    second.refresh_from_db()
    queued_note.refresh_from_db()
    assert queued_note.status == Note.Status.FAILED and queued_note.error == second.error


def test_a_job_queued_for_days_lost_its_task(queued_note, settings):
    queued_note.jobs.update(created=ago(settings.NOTES_JOB_QUEUE_HOURS * 3600 + 60))
    assert tasks.expire_stale_jobs() == 1
    queued_note.refresh_from_db()
    assert queued_note.status == Note.Status.FAILED and "never started" in queued_note.error


@pytest.mark.parametrize("status", ["done", "failed"])
def test_a_run_does_nothing_unless_its_job_is_queued_or_running(queued_note, status):
    job = queued_note.jobs.get()
    RecognitionJob.objects.filter(pk=job.pk).update(status=status)
    Note.objects.filter(pk=queued_note.pk).update(status=Note.Status.FAILED, error="before")
    job = run(job)
    queued_note.refresh_from_db()
    assert job.status == status and job.attempts == 0
    assert (queued_note.status, queued_note.error) == (Note.Status.FAILED, "before")
    assert not queued_note.pages.exists()


def test_retry_is_refused_while_a_run_is_alive(user, queued_note):
    queued_note.jobs.update(status=RecognitionJob.Status.RUNNING, heartbeat=ago(3))
    Note.objects.filter(pk=queued_note.pk).update(status=Note.Status.PROCESSING)
    with pytest.raises(NoteBusyError):
        services.note_recognize(user=user, note=queued_note)
    assert queued_note.jobs.count() == 1


def test_retry_replaces_a_run_whose_worker_died(user, queued_note, settings,
                                                django_capture_on_commit_callbacks):
    # The worker was killed: the note would otherwise wait for the broker's re-delivery.
    dead = queued_note.jobs.get()
    RecognitionJob.objects.filter(pk=dead.pk).update(
        status=RecognitionJob.Status.RUNNING, started=ago(400),
        heartbeat=ago(settings.NOTES_JOB_STALL_SECONDS + 5))
    Note.objects.filter(pk=queued_note.pk).update(status=Note.Status.PROCESSING)

    job = retry(user, queued_note, django_capture_on_commit_callbacks)

    assert job.status == RecognitionJob.Status.DONE
    dead.refresh_from_db()
    assert dead.status == RecognitionJob.Status.FAILED
    assert run(dead).attempts == 0  # the re-delivered task of the dead run does nothing


def test_the_database_holds_one_active_job_per_note(queued_note):
    with pytest.raises(IntegrityError), transaction.atomic():
        RecognitionJob.objects.create(note=queued_note)
    RecognitionJob.objects.create(note=queued_note, status=RecognitionJob.Status.FAILED)


def test_a_run_whose_job_was_failed_meanwhile_stores_nothing_more(
        queued_note, monkeypatch, django_capture_on_commit_callbacks):
    """The stall check failed the job (and a retry started) while this run read a page."""
    job = queued_note.jobs.get()
    read = ocr.read_page_image

    def read_then_lose_the_job(image, number, reader=None):
        result = read(image, number, reader)
        RecognitionJob.objects.filter(pk=job.pk).update(status=RecognitionJob.Status.FAILED,
                                                        error=runs.ERROR_INTERRUPTED)
        Note.objects.filter(pk=queued_note.pk).update(status=Note.Status.QUEUED)
        return result

    monkeypatch.setattr(ocr, "read_page_image", read_then_lose_the_job)
    job = run(job)

    queued_note.refresh_from_db()
    assert job.status == RecognitionJob.Status.FAILED and job.attempts == 1
    assert queued_note.status == Note.Status.QUEUED  # left to the run that replaced it
    assert not Line.objects.filter(page__note=queued_note).exists()
    assert not queued_note.revisions.exists()


def test_a_broker_that_cannot_be_reached_fails_the_job_readably(
        user, jpeg_upload, monkeypatch, django_capture_on_commit_callbacks):
    def unreachable(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(services, "async_task", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        [note] = services.note_upload(user=user, files=[jpeg_upload()])
    note.refresh_from_db()
    assert note.status == Note.Status.FAILED and "could not be queued" in note.error
    assert note.original and note.jobs.get().status == RecognitionJob.Status.FAILED
