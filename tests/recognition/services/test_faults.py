"""Faults of the parts around recognition: a full disk refuses uploads cleanly, a database blip
does not fail the notes being read."""

import errno
import os

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import OperationalError
from django_q.brokers import get_broker
from django_q.conf import Conf
from rest_framework.test import APIClient

from recognition import runs, services, tasks
from recognition.exceptions import StorageFullError
from recognition.models import Note, RecognitionJob


class FullDiskStorage(FileSystemStorage):
    """Local files on a disk with `room` bytes left: a write past it fails half-way with
    ENOSPC, as the kernel reports it, leaving the partial file behind."""

    room = 4096

    def _save(self, name, content):
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        written = 0
        with open(path, "wb") as f:
            for chunk in content.chunks():
                if written + len(chunk) > self.room:
                    f.write(chunk[: self.room - written])
                    raise OSError(errno.ENOSPC, "No space left on device")
                f.write(chunk)
                written += len(chunk)
        return name


@pytest.fixture
def full_disk(settings, media_root):
    # Django's test signals swap the default storage when STORAGES changes.
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": f"{__name__}.FullDiskStorage", "OPTIONS": {"location": str(media_root)}}}
    return media_root


def files_under(folder):
    return [p for p in folder.rglob("*") if p.is_file()]


def test_a_full_disk_refuses_an_upload_and_keeps_nothing(full_disk, user, jpeg_upload):
    with pytest.raises(StorageFullError, match="try again later"):
        services.note_upload(user=user, files=[jpeg_upload()])
    assert not Note.objects.exists() and files_under(full_disk) == []


def test_a_full_disk_is_a_503_on_the_web_and_the_api(full_disk, user, alice_client,
                                                      jpeg_upload):
    page = alice_client.post("/notes/upload/", {"files": [jpeg_upload()]},
                             HTTP_ACCEPT="application/json")
    assert page.status_code == 503
    assert "try again later" in page.json()["error"]["message"]
    api = APIClient()
    api.force_authenticate(user)
    answer = api.post("/api/v1/notes/", {"file": [jpeg_upload()]}, format="multipart")
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "unavailable"
    assert not Note.objects.exists() and files_under(full_disk) == []


@pytest.fixture
def queued_job(transactional_db, user, jpeg_upload, monkeypatch):
    # Outside a test transaction: a worker runs in autocommit, and closing a broken connection
    # (what the task does before trying again) would end a test's transaction.
    monkeypatch.setattr(tasks, "DATABASE_RETRY_PAUSES", (0, 0, 0))
    monkeypatch.setattr(Conf, "SYNC", False)  # to the broker, where no worker takes it
    [note] = services.note_upload(user=user, files=[jpeg_upload()])
    yield note.jobs.get()
    get_broker().purge_queue()


def test_a_database_blip_does_not_fail_the_note(queued_job, monkeypatch):
    run, blips = runs.recognition_run, []

    def run_after_a_blip(*, job_id):
        if len(blips) < 2:
            blips.append(job_id)
            raise OperationalError("server closed the connection unexpectedly")
        return run(job_id=job_id)

    monkeypatch.setattr(runs, "recognition_run", run_after_a_blip)
    tasks.recognize_note(queued_job.pk)
    queued_job.refresh_from_db()
    assert len(blips) == 2 and queued_job.status == RecognitionJob.Status.DONE


def test_a_database_that_stays_away_fails_the_note_readably(queued_job, monkeypatch):
    def down(*, job_id):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(runs, "recognition_run", down)
    tasks.recognize_note(queued_job.pk)
    queued_job.refresh_from_db()
    assert queued_job.status == RecognitionJob.Status.FAILED
    assert queued_job.error.startswith("Recognition failed unexpectedly (OperationalError)")


def test_a_page_that_cannot_be_stored_fails_readably_and_leaves_no_file(
        queued_job, settings, media_root, user, django_capture_on_commit_callbacks):
    """The disk fills between the upload and its recognition: the page JPEG is cut short.
    Nothing half-written stays; once there is room again, Retry reads the note."""
    note = queued_job.note
    before = set(files_under(media_root))
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": f"{__name__}.FullDiskStorage", "OPTIONS": {"location": str(media_root)}}}
    tasks.recognize_note(queued_job.pk)

    queued_job.refresh_from_db()
    assert queued_job.status == RecognitionJob.Status.FAILED
    assert queued_job.error.startswith("Page 1 could not be stored") and "Retry" in \
        queued_job.error
    assert set(files_under(media_root)) == before and not note.pages.exists()

    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(media_root)}}}
    job = services.note_recognize(user=user, note=note)
    tasks.recognize_note(job.pk)
    job.refresh_from_db()
    assert job.status == RecognitionJob.Status.DONE and note.pages.count() == 1
