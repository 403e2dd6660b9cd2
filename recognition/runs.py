"""Recognition runs: what a worker does with a queued job, and how failures are recorded.

Only workers import this module (through `tasks`); it loads the model via `ocr`.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recognition import ocr
from recognition.exceptions import RecognitionAppError, RecognitionInterrupted
from recognition.models import Line, Note, Page, RecognitionJob, Revision
from recognition.page_images import note_page_images
from recognition.revisions import revision_record

logger = logging.getLogger(__name__)

ERROR_INTERRUPTED = "Recognition did not finish (the worker stopped). Retry it."
ERROR_UNEXPECTED = (
    "Recognition failed unexpectedly ({kind}). Retry it, or contact us if it fails again."
)


def recognition_run(*, job_id: int) -> None:
    """Recognize every page of the job's note; safe to run again after an interruption.

    Pages already rendered are reused; each page's machine lines are replaced, while lines a
    person corrected are kept in place of the machine lines they overlap.
    """
    try:
        job = RecognitionJob.objects.select_related("note").get(pk=job_id)
    except RecognitionJob.DoesNotExist:
        logger.warning("Recognition job %s is gone (its note was deleted?)", job_id)
        return
    note = job.note
    now = timezone.now()
    job.model_version = ocr.model_version()
    RecognitionJob.objects.filter(pk=job.pk).update(
        status=RecognitionJob.Status.RUNNING, attempts=job.attempts + 1, started=now,
        model_version=job.model_version)
    Note.objects.filter(pk=note.pk).update(status=Note.Status.PROCESSING, error="",
                                           pages_done=0, updated=now)
    pages = []
    for done, (page, image) in enumerate(note_page_images(note), start=1):
        result = ocr.read_page_image(image, page.number)
        _page_store_lines(page, result)
        if result.partial:
            logger.warning("Note %s page %s: time ran out, %s line(s) left unread",
                           note.pk, page.number, result.unread)
        pages.append(page)
        del image, result
        ocr.release_memory()
        Note.objects.filter(pk=note.pk).update(pages_done=done, updated=timezone.now())
    with transaction.atomic():
        machine = Line.objects.filter(page__note=note, corrected=False)
        revision_record(note=note, kind=Revision.Kind.MACHINE,
                        summary=_run_summary(pages, job.model_version),
                        changed=list(machine.values_list("pk", flat=True)))
        finished = timezone.now()
        Note.objects.filter(pk=note.pk).update(status=Note.Status.DONE, updated=finished)
        RecognitionJob.objects.filter(pk=job.pk).update(status=RecognitionJob.Status.DONE,
                                                        finished=finished)


def _run_summary(pages: list[Page], model_version: str) -> str:
    summary = f"Recognized {len(pages)} page(s) with {model_version}"
    partial = [str(page.number) for page in pages if page.partial]
    if partial:
        summary += f"; partly read: page{'s' if len(partial) > 1 else ''} {', '.join(partial)}"
    return summary[:200]


def recognition_fail(*, job_id: int, error: Exception) -> None:
    """Record a failed run with a message for the user (the task boundary calls this)."""
    message = str(error) if _is_user_facing(error) else ERROR_UNEXPECTED.format(
        kind=type(error).__name__)
    job = RecognitionJob.objects.filter(pk=job_id).first()
    if job is None:
        return
    now = timezone.now()
    RecognitionJob.objects.filter(pk=job_id).update(status=RecognitionJob.Status.FAILED,
                                                    error=message, finished=now)
    Note.objects.filter(pk=job.note_id).update(status=Note.Status.FAILED, error=message,
                                               updated=now)


def _is_user_facing(error: Exception) -> bool:
    # ML errors about a page are wrapped into RecognitionError by `ocr`; any other (a missing
    # model file, say) is the operator's problem and may name server paths.
    return isinstance(error, RecognitionAppError)


def job_expire_stale() -> int:
    """Fail jobs no worker will finish (the broker gave up on them); returns how many."""
    q = settings.Q_CLUSTER
    horizon = timezone.now() - dt.timedelta(
        seconds=q["retry"] * (q.get("max_attempts") or 1) + q["timeout"])
    stale = RecognitionJob.objects.filter(
        status__in=[RecognitionJob.Status.QUEUED, RecognitionJob.Status.RUNNING],
        created__lt=horizon)
    count = 0
    for job in stale:
        recognition_fail(job_id=job.pk, error=RecognitionInterrupted(ERROR_INTERRUPTED))
        count += 1
    return count


@transaction.atomic
def _page_store_lines(page: Page, result) -> None:
    kept = list(page.lines.filter(corrected=True))
    page.lines.filter(corrected=False).delete()
    order = 0
    placed = set()
    for machine in result.lines:
        match = next((k for k in kept if k.pk not in placed and _overlaps(k.polygon,
                                                                          machine.polygon)), None)
        if match is not None:
            placed.add(match.pk)
            match.order = order
            match.machine_text = machine.text
            match.save(update_fields=["order", "machine_text"])
        else:
            # A line the page's time budget left unread is stored all the same, with its
            # region and no text, for a person to type in beside the image.
            Line.objects.create(
                page=page, order=order, block=machine.block,
                polygon=[list(p) for p in machine.polygon],
                baseline=[list(p) for p in machine.baseline],
                text=machine.text, machine_text=machine.text, confidence=machine.confidence,
                words=_words(machine.words), read=machine.read)
        order += 1
    for line in kept:
        if line.pk not in placed:
            line.order = order
            line.save(update_fields=["order"])
            order += 1
    page.width, page.height, page.skew, page.recognized = (
        result.width, result.height, result.skew, True)
    page.partial, page.unread_lines = result.partial, result.unread
    page.save(update_fields=["width", "height", "skew", "recognized", "partial", "unread_lines"])


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
