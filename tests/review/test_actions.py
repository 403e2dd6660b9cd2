"""Bulk actions of the review panel (mark reviewed, re-run, retry), the jobs' view of
failures and stalls, the model versions, and the audit entry each action writes."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from recognition import services
from recognition.admin.lines import REVIEWED
from recognition.admin.rerun import BUSY, RERUN
from recognition.models import Line, LineReview, Note, RecognitionJob, StaffAction

LINES = reverse("admin:recognition_line_changelist")
NOTES = reverse("admin:recognition_note_changelist")
JOBS = reverse("admin:recognition_recognitionjob_changelist")


def act(client, url: str, action: str, ids: list[int]):
    return client.post(url, {"action": action, "_selected_action": ids, "index": "0"},
                       follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_marking_lines_reviewed_records_the_reviewer(reviewer_client, reviewer, user,
                                                     make_note):
    note = make_note(user, [("one", 0.3), ("two", 0.4), ("three", 0.5)])
    one, two, _ = Line.objects.filter(page__note=note).order_by("order")
    response = act(reviewer_client, LINES, "mark_reviewed", [one.pk, two.pk])
    assert messages_of(response) == [REVIEWED.format(count=2)]
    reviews = LineReview.objects.order_by("line_id")
    assert [(r.line_id, r.reviewer) for r in reviews] == [(one.pk, reviewer), (two.pk, reviewer)]
    entry = StaffAction.objects.get()
    assert (entry.actor, entry.action, entry.target, entry.view) == (
        reviewer, "review", "recognition.line", "admin:recognition_line_changelist")
    assert sorted(entry.object_ids) == [one.pk, two.pk]


def test_marking_a_note_reviewed_marks_every_line(reviewer_client, reviewer, user, make_note):
    note = make_note(user, [("one", 0.3), ("two", 0.4)])
    other = make_note(user, [("elsewhere", 0.3)], title="other")
    act(reviewer_client, NOTES, "mark_reviewed", [note.pk])
    assert set(LineReview.objects.values_list("line__page__note", flat=True)) == {note.pk}
    assert LineReview.objects.count() == 2
    assert not LineReview.objects.filter(line__page__note=other).exists()
    entry = StaffAction.objects.get()
    assert (entry.target, entry.object_ids, entry.detail) == ("recognition.note", [note.pk],
                                                              {"lines": 2})


def test_a_rerun_skips_busy_notes(reviewer_client, idle_and_busy,
                                  django_capture_on_commit_callbacks):
    idle, busy = idle_and_busy
    with django_capture_on_commit_callbacks(execute=False):  # queued, not run
        response = act(reviewer_client, NOTES, "rerun", [idle.pk, busy.pk])
    assert messages_of(response) == [RERUN.format(count=1), BUSY.format(titles="“busy”")]
    assert idle.jobs.filter(status=RecognitionJob.Status.QUEUED).count() == 1
    assert busy.jobs.count() == 2 and not busy.jobs.filter(status="queued").exists()
    entry = StaffAction.objects.get()
    assert (entry.action, entry.detail) == ("rerun", {"queued": [idle.pk], "busy": [busy.pk]})


def test_a_failed_job_is_shown_with_its_error_and_retried(
        reviewer_client, reviewer, recognized_note, django_capture_on_commit_callbacks):
    job = recognized_note.jobs.get()
    RecognitionJob.objects.filter(pk=job.pk).update(status="failed", error="Out of memory.")
    Note.objects.filter(pk=recognized_note.pk).update(status="failed", error="Out of memory.")
    response = reviewer_client.get(JOBS + "?status__exact=failed")
    assert list(response.context["cl"].result_list) == [job]
    assert "Out of memory." in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the retry runs inline
        response = act(reviewer_client, JOBS, "retry", [job.pk])
    assert messages_of(response) == [RERUN.format(count=1)]
    recognized_note.refresh_from_db()
    assert recognized_note.status == Note.Status.DONE and recognized_note.error == ""
    retry = recognized_note.jobs.exclude(pk=job.pk).get()
    assert retry.status == RecognitionJob.Status.DONE
    entry = StaffAction.objects.get()
    assert (entry.action, entry.target, entry.object_ids) == ("retry",
                                                              "recognition.recognitionjob",
                                                              [job.pk])


def test_a_stalled_job_is_shown_and_its_retry_replaces_it(
        reviewer_client, user, make_note, settings, django_capture_on_commit_callbacks):
    note = make_note(user, [("one", 0.3)])
    old = timezone.now() - dt.timedelta(seconds=settings.NOTES_JOB_STALL_SECONDS + 60)
    stalled = RecognitionJob.objects.create(note=note, status="running", started=old,
                                            heartbeat=old)
    alive = RecognitionJob.objects.create(note=make_note(user, [("x", 0.5)], title="alive"),
                                          status="running", started=old,
                                          heartbeat=timezone.now())
    response = reviewer_client.get(JOBS + "?stuck=stalled")
    assert list(response.context["cl"].result_list) == [stalled]
    with django_capture_on_commit_callbacks(execute=False):
        response = act(reviewer_client, JOBS, "retry", [stalled.pk, alive.pk])
    assert messages_of(response) == [RERUN.format(count=1), BUSY.format(titles="“alive”")]
    stalled.refresh_from_db()
    assert stalled.status == "failed" and stalled.error == services.ERROR_SUPERSEDED
    assert note.jobs.filter(status="queued").count() == 1


def test_model_versions_are_listed_with_their_jobs_and_line_confidence(
        reviewer_client, user, make_note):
    make_note(user, [("one", 0.2), ("two", 0.4)], model_version="crnn.pt A")
    make_note(user, [("three", 0.9)], title="later", model_version="crnn.pt B")
    RecognitionJob.objects.create(note=make_note(user, [], title="failed", status="failed"),
                                  status="failed", model_version="crnn.pt B", error="x")
    response = reviewer_client.get(reverse("admin:recognition_recognitionjob_models"))
    assert response.status_code == 200
    versions = {v.name: v for v in response.context["versions"]}
    a, b = versions["crnn.pt A"], versions["crnn.pt B"]
    assert (a.jobs, a.done, a.failed, a.notes, a.lines) == (1, 1, 0, 1, 2)
    assert a.mean_confidence == pytest.approx(0.3)
    assert (b.jobs, b.done, b.failed, b.notes, b.lines) == (2, 1, 1, 1, 1)
    assert b.mean_confidence == pytest.approx(0.9)
    assert "crnn.pt" in response.content.decode()
