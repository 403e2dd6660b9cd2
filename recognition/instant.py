"""Instant recognition (POST /api/v1/recognize/): one image in, its text out, while the client
waits; the model runs in the `instant` django-q2 cluster, never in a web process.

The image travels through the media storage (a broker message is no place for megabytes) and
is deleted as soon as it is read; the web process polls for the task's result with a deadline.
A full queue or a worker that does not answer in NOTES_INSTANT_SECONDS is a 503 with a
Retry-After, not a web worker stuck behind the model.
"""

from __future__ import annotations

import time
import uuid

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django_q.brokers import get_broker
from django_q.models import Task
from django_q.tasks import async_task

from recognition.exceptions import InstantUnavailable, RecognitionError
from recognition.uploads import CheckedUpload

CLUSTER = "instant"
TASK = "recognition.tasks.recognize_image"
ERROR_BUSY = ("Instant recognition is busy; try again in a few seconds, or upload the image as "
              "a note.")
ERROR_SLOW = ("Instant recognition took longer than {seconds} s; try again later, or upload the "
              "image as a note.")


def image_recognize(*, user, upload: UploadedFile, check: CheckedUpload, detail: bool) -> dict:
    """The recognized text (and, with `detail`, its lines) of a checked image upload, read
    with the model that reads the user's notes (their personal model, when they use one)."""
    if get_broker(CLUSTER).queue_size() >= settings.NOTES_INSTANT_QUEUE:
        raise InstantUnavailable(ERROR_BUSY)
    upload.seek(0)
    name = default_storage.save(f"instant/{uuid.uuid4().hex}{check.extension}", upload)
    try:
        task_id = async_task(TASK, name, detail, user.pk, cluster=CLUSTER)
        outcome = _result(task_id, deadline=time.monotonic() + settings.NOTES_INSTANT_SECONDS)
    finally:
        default_storage.delete(name)  # read already, or never to be read by anyone
    if outcome is None:
        raise InstantUnavailable(ERROR_SLOW.format(seconds=settings.NOTES_INSTANT_SECONDS))
    if "error" in outcome:
        raise RecognitionError(outcome["error"])
    return outcome


def _result(task_id: str, *, deadline: float) -> dict | None:
    """The task's return value once a worker stored it; None past the deadline. Polls gently
    (every 20 ms at first, then up to 4 times a second) since a page takes about a second."""
    pause = 0.02
    while True:
        task = Task.objects.filter(id=task_id).only("result", "success").first()
        if task is not None:
            if task.success and isinstance(task.result, dict):
                return task.result
            return {"error": "Instant recognition failed unexpectedly; try again later."}
        if time.monotonic() + pause > deadline:
            return None
        time.sleep(pause)
        pause = min(pause * 1.5, 0.25)
