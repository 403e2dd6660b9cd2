"""Every write of the recognition app: collections, notes, uploads and recognition runs."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Iterable, Sequence

import pypdfium2
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task
from PIL import Image, ImageOps

from recognition import ocr
from recognition.exceptions import NoteBusyError, RecognitionAppError, RecognitionInterrupted
from recognition.models import Collection, Line, Note, Page, RecognitionJob, Tag
from recognition.uploads import CheckedUpload, check_uploads

logger = logging.getLogger(__name__)

DEFAULT_COLLECTION = "Inbox"
ERROR_BUSY = "This note is already being recognized."
ERROR_INTERRUPTED = "Recognition did not finish (the worker stopped). Retry it."
ERROR_UNEXPECTED = "Recognition failed unexpectedly ({kind}). Retry it, or contact us if it fails again."
PAGE_IMAGE_QUALITY = 90


def _check_owner(user, obj) -> None:
    if obj.owner_id != user.id:
        raise PermissionDenied


# Collections -----------------------------------------------------------------------------------

def collection_default(*, user) -> Collection:
    collection, _ = Collection.objects.get_or_create(owner=user, name=DEFAULT_COLLECTION)
    return collection


def collection_create(*, user, name: str) -> Collection:
    collection = Collection(owner=user, name=name.strip())
    collection.full_clean()
    collection.save()
    return collection


def collection_rename(*, user, collection: Collection, name: str) -> Collection:
    _check_owner(user, collection)
    collection.name = name.strip()
    collection.full_clean()
    collection.save(update_fields=["name"])
    return collection


@transaction.atomic
def collection_delete(*, user, collection: Collection) -> None:
    """Delete a collection with its notes and all their files."""
    _check_owner(user, collection)
    for note in collection.notes.all():
        _delete_files_on_commit(note)
    collection.delete()


def _tags(user, names: Iterable[str]) -> list[Tag]:
    cleaned = {name.strip()[:60] for name in names if name.strip()}
    return [Tag.objects.get_or_create(owner=user, name=name)[0] for name in sorted(cleaned)]


# Notes -----------------------------------------------------------------------------------------

def note_upload(
    *,
    user,
    files: Sequence[UploadedFile],
    collection: Collection | None = None,
    title: str = "",
    tags: Iterable[str] = (),
    note_date: dt.date | None = None,
) -> list[Note]:
    """Store each file as a note and queue its recognition; all files or none.

    Every file is checked before anything is written; if writing fails half-way, the files
    already stored are deleted and no row remains.
    """
    checked = check_uploads(list(files))
    if collection is not None:
        _check_owner(user, collection)
    stored: list[str] = []
    try:
        with transaction.atomic():
            target = collection or collection_default(user=user)
            tag_objects = _tags(user, tags)
            notes = [
                _note_create(user, upload, check, target, title, tag_objects, note_date, stored)
                for upload, check in zip(files, checked, strict=True)
            ]
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    return notes


def _note_create(user, upload, check: CheckedUpload, collection, title, tags, note_date,
                 stored: list[str]) -> Note:
    note = Note(
        owner=user,
        collection=collection,
        title=(title or check.name.rsplit(".", 1)[0])[:200],
        note_date=note_date,
        original_name=check.name,
        kind=check.kind,
        content_type=check.content_type,
        size=check.size,
        sha256=check.sha256,
        pages_total=check.pages,
    )
    folder = f"notes/{note.storage_key}"
    upload.seek(0)
    note.original.name = default_storage.save(f"{folder}/original{check.extension}", upload)
    stored.append(note.original.name)
    note.thumbnail.name = default_storage.save(f"{folder}/thumbnail.jpg",
                                               ContentFile(check.thumbnail))
    stored.append(note.thumbnail.name)
    note.full_clean()
    note.save()
    note.tags.set(tags)
    _job_queue(note)
    return note


def note_update(*, user, note: Note, title: str, collection: Collection,
                tags: Iterable[str] = (), note_date: dt.date | None = None) -> Note:
    """Rename, move to another collection, re-tag or re-date a note."""
    _check_owner(user, note)
    _check_owner(user, collection)
    with transaction.atomic():
        note.title = title.strip()
        note.collection = collection
        note.note_date = note_date
        note.full_clean()
        note.save(update_fields=["title", "collection", "note_date", "updated"])
        note.tags.set(_tags(user, tags))
    return note


@transaction.atomic
def note_delete(*, user, note: Note) -> None:
    _check_owner(user, note)
    _delete_files_on_commit(note)
    note.delete()


def note_recognize(*, user, note: Note) -> RecognitionJob:
    """Queue recognition again: after a failure, or to re-read with a newer model."""
    _check_owner(user, note)
    with transaction.atomic():
        note = Note.objects.select_for_update().get(pk=note.pk)
        if note.is_active:
            raise NoteBusyError(ERROR_BUSY)
        note.status, note.error, note.pages_done = Note.Status.QUEUED, "", 0
        note.save(update_fields=["status", "error", "pages_done", "updated"])
        return _job_queue(note)


def _job_queue(note: Note) -> RecognitionJob:
    job = RecognitionJob.objects.create(note=note)
    transaction.on_commit(
        lambda: async_task("recognition.tasks.recognize_note", job.pk,
                           task_name=f"recognize-note-{note.pk}-job-{job.pk}")
    )
    return job


def _delete_files_on_commit(note: Note) -> None:
    names = [note.original.name, note.thumbnail.name]
    names += [page.image.name for page in note.pages.all()]
    names = [name for name in names if name]

    def delete():
        for name in names:
            default_storage.delete(name)

    transaction.on_commit(delete)


# Recognition (runs in a worker) ----------------------------------------------------------------

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
    RecognitionJob.objects.filter(pk=job.pk).update(
        status=RecognitionJob.Status.RUNNING, attempts=job.attempts + 1, started=now,
        model_version=ocr.model_version())
    Note.objects.filter(pk=note.pk).update(status=Note.Status.PROCESSING, error="",
                                           pages_done=0, updated=now)
    pages = _pages_materialize(note)
    Note.objects.filter(pk=note.pk).update(pages_total=len(pages))
    for done, page in enumerate(pages, start=1):
        with default_storage.open(page.image.name, "rb") as f:
            image = Image.open(f)
            image.load()
        result = ocr.read_page_image(image, page.number)
        _page_store_lines(page, result)
        Note.objects.filter(pk=note.pk).update(pages_done=done, updated=timezone.now())
    text = "\n\n".join(
        "\n".join(line.text for line in page.lines.all() if line.text) for page in pages
    )
    finished = timezone.now()
    Note.objects.filter(pk=note.pk).update(status=Note.Status.DONE, text=text, updated=finished)
    RecognitionJob.objects.filter(pk=job.pk).update(status=RecognitionJob.Status.DONE,
                                                    finished=finished)


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


def _pages_materialize(note: Note) -> list[Page]:
    """The note's page images (upright JPEGs), rendered once and reused by later runs."""
    existing = {page.number: page for page in note.pages.all()}
    if note.kind == Note.Kind.PDF:
        with default_storage.open(note.original.name, "rb") as f:
            pdf = pypdfium2.PdfDocument(f.read())
        try:
            images = (
                (number, lambda n=number: pdf[n - 1].render(
                    scale=settings.NOTES_PDF_DPI / 72).to_pil())
                for number in range(1, len(pdf) + 1)
            )
            return [existing.get(n) or _page_save(note, n, render()) for n, render in images]
        finally:
            pdf.close()
    if 1 in existing:
        return [existing[1]]
    with default_storage.open(note.original.name, "rb") as f:
        image = Image.open(f)
        image.load()
    return [_page_save(note, 1, ImageOps.exif_transpose(image))]


def _page_save(note: Note, number: int, image: Image.Image) -> Page:
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    out = io.BytesIO()
    image.save(out, "JPEG", quality=PAGE_IMAGE_QUALITY)
    name = default_storage.save(f"notes/{note.storage_key}/page-{number:03d}.jpg",
                                ContentFile(out.getvalue()))
    return Page.objects.create(note=note, number=number, image=name, width=image.width,
                               height=image.height)


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
            Line.objects.create(
                page=page, order=order, block=machine.block,
                polygon=[list(p) for p in machine.polygon],
                baseline=[list(p) for p in machine.baseline],
                text=machine.text, machine_text=machine.text, confidence=machine.confidence,
                words=_words(machine.words))
        order += 1
    for line in kept:
        if line.pk not in placed:
            line.order = order
            line.save(update_fields=["order"])
            order += 1
    page.width, page.height, page.skew, page.recognized = (
        result.width, result.height, result.skew, True)
    page.save(update_fields=["width", "height", "skew", "recognized"])


def _words(words) -> list[dict]:
    return [
        {"text": w.text, "confidence": round(w.confidence, 4),
         "alternatives": [{"text": a.text, "probability": round(a.probability, 4)}
                          for a in w.alternatives]}
        for w in words
    ]


def _overlaps(a, b) -> bool:
    """Boxes of two polygons overlap by more than half of the smaller one."""
    ax0, ay0 = min(p[0] for p in a), min(p[1] for p in a)
    ax1, ay1 = max(p[0] for p in a), max(p[1] for p in a)
    bx0, by0 = min(p[0] for p in b), min(p[1] for p in b)
    bx1, by1 = max(p[0] for p in b), max(p[1] for p in b)
    w, h = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
    if w <= 0 or h <= 0:
        return False
    smaller = min((ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0))
    return w * h > 0.5 * smaller
