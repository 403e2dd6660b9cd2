"""Recognition runs: what a worker does with a queued job, and how failures are recorded.

Only workers import this module (through `tasks`); it loads the model via `ocr`.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import ImageOps

from recognition import ocr
from recognition.exceptions import RecognitionAppError
from recognition.models import Line, Note, Page, PersonalModel, RecognitionJob, Revision
from recognition.page_images import image_load, note_page_images
from recognition.revisions import revision_record

logger = logging.getLogger(__name__)

ERROR_INTERRUPTED = "Recognition did not finish (the worker stopped). Retry it."
ERROR_LOST = "Recognition was queued but never started. Retry it."
ERROR_UNEXPECTED = (
    "Recognition failed unexpectedly ({kind}). Retry it, or contact us if it fails again."
)


def recognition_run(*, job_id: int) -> None:
    """Recognize every page of the job's note; safe to run again after an interruption.

    Pages already rendered are reused; each page's machine lines are replaced, while lines a
    person corrected are kept in place of the machine lines they overlap. A run does nothing
    unless its job is queued or running, and stops, storing nothing more, as soon as its job
    is no longer running (failed as stalled, or superseded by a retry).
    """
    asked = (RecognitionJob.objects.filter(pk=job_id)
             .values_list("note__owner_id", "model_request", "requested_model").first())
    if asked is None:
        logger.warning("Recognition job %s is gone (its note was deleted?)", job_id)
        return
    owner_id, request, personal_id = asked
    # Loaded before the job counts as started; a requested version that cannot be loaded
    # raises, and the task boundary fails the job with the reason.
    model = ocr.model_requested(
        owner_id=owner_id, request=request,
        personal=PersonalModel.objects.filter(pk=personal_id).first() if personal_id else None)
    job = _job_claim(job_id, model.version)
    if job is None:
        return
    note = job.note
    pages = []
    for done, (page, image) in enumerate(note_page_images(note), start=1):
        result = ocr.read_page_image(image, page.number, model.recognizer)
        _page_store_lines(job, page, result)
        if result.partial:
            logger.warning("Note %s page %s: time ran out, %s line(s) left unread",
                           note.pk, page.number, result.unread)
        pages.append(page)
        del image, result
        ocr.release_memory()
        Note.objects.filter(pk=note.pk).update(pages_done=done, updated=timezone.now())
    with transaction.atomic():
        _job_check(job)
        machine = Line.objects.filter(page__note=note, corrected=False)
        revision_record(note=note, kind=Revision.Kind.MACHINE,
                        summary=_run_summary(pages, job.model_version),
                        changed=list(machine.values_list("pk", flat=True)))
        finished = timezone.now()
        Note.objects.filter(pk=note.pk).update(status=Note.Status.DONE, updated=finished)
        RecognitionJob.objects.filter(pk=job.pk).update(status=RecognitionJob.Status.DONE,
                                                        finished=finished, heartbeat=finished)


def _job_claim(job_id: int, version: str) -> RecognitionJob | None:
    """Mark the job running (again, when the broker re-delivers it after a crash), or None
    when there is nothing to run: the job is gone, finished, or failed meanwhile (a stalled
    job the user retried: the retry has a job of its own)."""
    with transaction.atomic():
        job = (RecognitionJob.objects.select_for_update().select_related("note")
               .filter(pk=job_id).first())
        if job is None:
            logger.warning("Recognition job %s is gone (its note was deleted?)", job_id)
            return None
        if job.status not in RecognitionJob.ACTIVE:
            logger.warning("Recognition job %s is %s: not run again", job_id, job.status)
            return None
        now = timezone.now()
        job.status, job.model_version = RecognitionJob.Status.RUNNING, version
        job.attempts, job.started, job.heartbeat = job.attempts + 1, now, now
        job.save(update_fields=["status", "model_version", "attempts", "started", "heartbeat"])
        Note.objects.filter(pk=job.note_id).update(status=Note.Status.PROCESSING, error="",
                                                   pages_done=0, updated=now)
    return job


class RunSuperseded(Exception):
    """This run's job is no longer running: whatever it read is not stored."""


def _job_check(job: RecognitionJob) -> None:
    """Inside a transaction: lock the job, fail unless it is still running, beat its heart.

    Locking the job row serializes this run's writes with a stall check or a retry that
    fails the job: either they see this page stored, or this run sees its job failed.
    """
    status = (RecognitionJob.objects.select_for_update().filter(pk=job.pk)
              .values_list("status", flat=True).first())
    if status != RecognitionJob.Status.RUNNING:
        raise RunSuperseded(f"job {job.pk} is {status or 'gone'}")
    RecognitionJob.objects.filter(pk=job.pk).update(heartbeat=timezone.now())


def image_read(*, name: str, detail: bool, user_id: int | None = None) -> dict:
    """Instant recognition, in the `instant` cluster: read the stored image (and delete it)
    with the model that reads the user's notes (`ocr.model_for`), return what the API answers:
    text, partial, unread lines and, with `detail`, the lines."""
    try:
        image = ImageOps.exif_transpose(image_load(name))
    finally:
        default_storage.delete(name)
    result = ocr.read_page_image(image, 1, ocr.model_for(user_id).recognizer)
    data = {"text": "\n".join(line.text for line in result.lines if line.text),
            "partial": result.partial, "unread_lines": result.unread}
    if detail:
        data["lines"] = [{"text": line.text, "confidence": round(line.confidence, 4),
                          "read": line.read,
                          "polygon": [[round(x), round(y)] for x, y in line.polygon]}
                         for line in result.lines]
    return data


def _run_summary(pages: list[Page], model_version: str) -> str:
    summary = f"Recognized {len(pages)} page(s) with {model_version}"
    partial = [str(page.number) for page in pages if page.partial]
    if partial:
        summary += f"; partly read: page{'s' if len(partial) > 1 else ''} {', '.join(partial)}"
    return summary[:200]


def recognition_fail(*, job_id: int, error: Exception) -> None:
    """Record a failed run with a message for the user (the task boundary calls this).

    Only a job still queued or running is failed: one that was failed as stalled and retried
    meanwhile must not take its note's new run down with it.
    """
    message = error_message(error)
    job = RecognitionJob.objects.filter(pk=job_id, status__in=RecognitionJob.ACTIVE).first()
    if job is not None:
        _job_fail(job, message, only_if=job.status)


def error_message(error: Exception) -> str:
    """What the user reads about a failure. ML errors about a page are wrapped into
    RecognitionError by `ocr`; any other (a missing model file, say) is the operator's problem
    and may name server paths: the user reads only its kind."""
    if isinstance(error, RecognitionAppError):
        return str(error)
    return ERROR_UNEXPECTED.format(kind=type(error).__name__)


def job_expire_stale() -> int:
    """Fail the jobs no worker will finish; returns how many.

    A running job is stalled when its heartbeat (written after every page) is older than
    NOTES_JOB_STALL_SECONDS: its worker died. It is failed and, unless the note's previous run
    stalled too (a page that kills its worker would do so forever), queued again at once, so a
    crash costs the user a few minutes instead of the broker's re-delivery delay; the old task,
    when the broker re-delivers it, finds its job failed and does nothing. A job still queued
    after NOTES_JOB_QUEUE_HOURS lost its task. Waiting in a long queue is never a reason:
    jobs are timed from their last sign of life, not from their creation.
    """
    now = timezone.now()
    stall = now - dt.timedelta(seconds=settings.NOTES_JOB_STALL_SECONDS)
    stalled = RecognitionJob.objects.filter(status=RecognitionJob.Status.RUNNING,
                                            heartbeat__lt=stall)
    lost = RecognitionJob.objects.filter(
        status=RecognitionJob.Status.QUEUED,
        created__lt=now - dt.timedelta(hours=settings.NOTES_JOB_QUEUE_HOURS))
    count = 0
    for job in stalled.select_related("note", "requested_model"):
        count += _job_fail_stalled(job)
    for job in lost:
        count += _job_fail(job, ERROR_LOST, only_if=RecognitionJob.Status.QUEUED)
    return count


def _job_fail_stalled(job: RecognitionJob) -> int:
    previous = (RecognitionJob.objects.filter(note_id=job.note_id, created__lt=job.created)
                .order_by("-created").values_list("error", flat=True).first())
    if not _job_fail(job, ERROR_INTERRUPTED, only_if=RecognitionJob.Status.RUNNING):
        return 0
    if previous == ERROR_INTERRUPTED:
        logger.error("Note %s stalled its worker twice in a row; not retried", job.note_id)
        return 1
    from recognition import services  # the same queueing as a user's retry

    # The retry reads with the model the stalled run was asked for (a version staff chose).
    model = {RecognitionJob.ModelRequest.STANDARD: services.STANDARD_MODEL,
             RecognitionJob.ModelRequest.PERSONAL: job.requested_model}.get(job.model_request)
    if job.model_request == RecognitionJob.ModelRequest.PERSONAL and model is None:
        logger.info("Stalled job %s not retried: its requested model was deleted", job.pk)
        return 1
    try:
        services.note_recognize(user=job.note.owner, note=job.note, model=model)
    except RecognitionAppError as err:  # retried by its owner meanwhile
        logger.info("Stalled job %s not retried: %s", job.pk, err)
    return 1


def _job_fail(job: RecognitionJob, message: str, *, only_if: str) -> int:
    """Fail the job (and its note) unless its status changed meanwhile; 1 if it was failed."""
    now = timezone.now()
    with transaction.atomic():
        failed = RecognitionJob.objects.filter(pk=job.pk, status=only_if).update(
            status=RecognitionJob.Status.FAILED, error=message, finished=now)
        if failed:
            Note.objects.filter(pk=job.note_id).update(status=Note.Status.FAILED, error=message,
                                                       updated=now)
    if failed:
        logger.warning("Recognition job %s failed: %s", job.pk, message)
    return failed


@transaction.atomic
def _page_store_lines(job: RecognitionJob, page: Page, result) -> None:
    """Replace the page's machine lines with the new reading, keeping a person's lines.

    A kept (corrected) line takes the place of the first new line it overlaps; a new line that
    only overlaps kept lines already placed is dropped, as the person's line covers it (two
    lines the person merged, say). Kept lines that overlap nothing new (the second half of a
    split, a line typed in) follow the kept line they followed before, or go where their
    region's height on the page puts them.
    """
    _job_check(job)
    before = list(page.lines.order_by("order"))
    kept = [line for line in before if line.corrected]
    page.lines.filter(corrected=False).delete()
    sequence: list[Line] = []
    placed: set[int] = set()
    for machine in result.lines:
        covering = [k for k in kept if _overlaps(k.polygon, machine.polygon)]
        free = next((k for k in covering if k.pk not in placed), None)
        if free is not None:
            placed.add(free.pk)
            free.machine_text = machine.text
            sequence.append(free)
        elif not covering:
            # A line the page's time budget left unread is stored all the same, with its
            # region and no text, for a person to type in beside the image.
            sequence.append(Line(
                page=page, block=machine.block, polygon=[list(p) for p in machine.polygon],
                baseline=[list(p) for p in machine.baseline], text=machine.text,
                machine_text=machine.text, confidence=machine.confidence,
                words=_words(machine.words), read=machine.read))
    for line in kept:
        if line.pk not in placed:
            sequence.insert(_kept_position(line, before, sequence), line)
            placed.add(line.pk)
    for order, line in enumerate(sequence):
        line.order = order
        if line.pk is None:
            line.save()
        else:
            line.save(update_fields=["order", "machine_text"])
    page.width, page.height, page.skew, page.recognized = (
        result.width, result.height, result.skew, True)
    page.partial, page.unread_lines = result.partial, result.unread
    page.save(update_fields=["width", "height", "skew", "recognized", "partial", "unread_lines"])


def _kept_position(line: Line, before: list[Line], sequence: list[Line]) -> int:
    """Where a kept line that matched no new line goes in the new reading order."""
    index = before.index(line)
    previous = before[index - 1] if index else None
    if previous is not None and previous in sequence:  # kept lines are the same objects
        return sequence.index(previous) + 1
    if line.polygon:
        middle = _middle_y(line.polygon)
        return next((i for i, other in enumerate(sequence)
                     if other.polygon and _middle_y(other.polygon) > middle), len(sequence))
    return min(index, len(sequence))


def _middle_y(polygon) -> float:
    ys = [p[1] for p in polygon]
    return (min(ys) + max(ys)) / 2


def _words(words) -> list[dict]:
    return [
        {"text": w.text, "confidence": round(w.confidence, 4),
         "alternatives": [{"text": a.text, "probability": round(a.probability, 4)}
                          for a in w.alternatives]}
        for w in words
    ]


def _overlaps(a, b) -> bool:
    """Boxes of two polygons (any number of points) overlap by more than half of the smaller
    one; a line typed in by hand has no polygon and overlaps nothing."""
    if not a or not b:
        return False
    ax0, ay0 = min(p[0] for p in a), min(p[1] for p in a)
    ax1, ay1 = max(p[0] for p in a), max(p[1] for p in a)
    bx0, by0 = min(p[0] for p in b), min(p[1] for p in b)
    bx1, by1 = max(p[0] for p in b), max(p[1] for p in b)
    w, h = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
    if w <= 0 or h <= 0:
        return False
    smaller = min((ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0))
    return w * h > 0.5 * smaller
