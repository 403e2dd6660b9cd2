"""Writes of the web side of the recognition app: collections, notes, uploads, queueing.

What a worker does with a queued job is in `runs` (it loads the model; web processes never do).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task

from recognition.exceptions import NoteBusyError, PersonalModelError, StorageFullError
from recognition.models import Collection, Note, PersonalModel, RecognitionJob, Tag
from recognition.signals import note_deleted
from recognition.text import clean_label
from recognition.uploads import CheckedUpload, check_uploads

logger = logging.getLogger(__name__)

DEFAULT_COLLECTION = "Inbox"
ERROR_BUSY = "This note is already being recognized."
ERROR_SUPERSEDED = "Its worker stopped; recognition was started again."
ERROR_STORAGE = ("The file could not be stored: the server is out of space or its storage is "
                 "unavailable. Nothing was saved; try again later.")
ERROR_NOT_QUEUED = "Recognition could not be queued (the task queue is unavailable). Retry it."
ERROR_MODEL_NOT_OWNERS = ("Personal model {model} belongs to another user; “{note}” can be read "
                          "only with the standard model or its owner's own models.")
ERROR_MODEL_NOT_PROMOTED = ("Personal model {model} cannot read notes: only a version that came "
                            "out better (promoted) and has its file can.")
# What `note_recognize(model=...)` takes for the site's model, whatever the owner uses.
STANDARD_MODEL = "standard"


def _check_owner(user, obj) -> None:
    if obj.owner_id != user.id:
        raise PermissionDenied


# Collections -----------------------------------------------------------------------------------

def collection_default(*, user) -> Collection:
    collection, _ = Collection.objects.get_or_create(owner=user, name=DEFAULT_COLLECTION)
    return collection


def collection_create(*, user, name: str) -> Collection:
    collection = Collection(owner=user, name=clean_label(name))
    collection.full_clean()
    collection.save()
    return collection


def collection_rename(*, user, collection: Collection, name: str) -> Collection:
    _check_owner(user, collection)
    collection.name = clean_label(name)
    collection.full_clean()
    collection.save(update_fields=["name"])
    return collection


@transaction.atomic
def collection_delete(*, user, collection: Collection) -> None:
    """Delete a collection with its notes and all their files."""
    _check_owner(user, collection)
    note_ids = []
    for note in collection.notes.all():
        _delete_files_on_commit(note)
        note_ids.append(note.pk)
    collection.delete()

    def announce():
        for note_id in note_ids:
            note_deleted.send(sender=Note, note_id=note_id)

    transaction.on_commit(announce)


def tag_create(*, user, name: str) -> Tag:
    tag = Tag(owner=user, name=clean_label(name))
    tag.full_clean()
    tag.save()
    return tag


def tag_rename(*, user, tag: Tag, name: str) -> Tag:
    _check_owner(user, tag)
    tag.name = clean_label(name)
    tag.full_clean()
    tag.save(update_fields=["name"])
    return tag


def tag_delete(*, user, tag: Tag) -> None:
    """Remove the tag from every note that has it (the notes stay)."""
    _check_owner(user, tag)
    tag.delete()


def _tags(user, names: Iterable[str]) -> list[Tag]:
    cleaned = {clean_label(name)[:60].rstrip() for name in names} - {""}
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
            titles = _note_titles(title, [check.name for check in checked])
            notes = [
                _note_create(user, upload, check, target, note_title, tag_objects, note_date,
                             stored)
                for upload, check, note_title in zip(files, checked, titles, strict=True)
            ]
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    return notes


def _note_titles(title: str, names: list[str]) -> list[str]:
    """One title per file, distinct within the batch: the title given for a single file; for
    several, "title – file name stem" (with no title, the stem); "(2)", "(3)"... where two
    files still share one (the same file name twice)."""
    title = clean_label(title)
    stems = [clean_label(name.rsplit(".", 1)[0]) or name for name in names]
    if title and len(names) == 1:
        wanted = [title[:200]]
    elif title:
        wanted = [f"{title[:200 - len(stem) - 3].rstrip()} – {stem}"[:200] for stem in stems]
    else:
        wanted = [stem[:200] for stem in stems]
    seen: dict[str, int] = {}
    titles = []
    for name in wanted:
        seen[name.casefold()] = seen.get(name.casefold(), 0) + 1
        count = seen[name.casefold()]
        titles.append(name if count == 1 else f"{name[:200 - len(str(count)) - 3]} ({count})")
    return titles


def _note_create(user, upload, check: CheckedUpload, collection, title, tags, note_date,
                 stored: list[str]) -> Note:
    note = Note(
        owner=user,
        collection=collection,
        title=title,
        note_date=note_date,
        original_name=check.name,
        kind=check.kind,
        content_type=check.content_type,
        size=check.size,
        sha256=check.sha256,
        pages_total=check.pages,
    )
    note_files_store(note, upload, check, stored)
    note.full_clean()
    note.save()
    note.tags.set(tags)
    _job_queue(note)
    return note


def note_files_store(note: Note, upload: UploadedFile, check: CheckedUpload,
                     stored: list[str]) -> None:
    """Save a checked upload as the note's original, with its thumbnail, under a random
    folder; every name saved is appended to `stored`, for the caller's clean-up on failure."""
    folder = f"notes/{note.storage_key}"
    upload.seek(0)
    note.original.name = _store(f"{folder}/original{check.extension}", upload, stored)
    note.thumbnail.name = _store(f"{folder}/thumbnail.jpg", ContentFile(check.thumbnail),
                                 stored)


def _store(name: str, content, stored: list[str]) -> str:
    """Save a file, its name in `stored` before the first byte: a write that fails half-way
    (a full disk) leaves a partial file the caller's clean-up must find. A storage that
    cannot take it is the user's readable "try later", not a 500."""
    stored.append(name)  # the folder is new and random: the name is free
    try:
        saved = default_storage.save(name, content)
    except OSError as err:
        logger.error("Could not store %s: %s", name, err)
        raise StorageFullError(ERROR_STORAGE) from err
    if saved != name:
        stored.append(saved)
    return saved


def note_update(*, user, note: Note, title: str, collection: Collection,
                tags: Iterable[str] = (), note_date: dt.date | None = None) -> Note:
    """Rename, move to another collection, re-tag or re-date a note."""
    _check_owner(user, note)
    _check_owner(user, collection)
    with transaction.atomic():
        note.title = clean_label(title)
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
    note_id = note.pk
    note.delete()
    transaction.on_commit(lambda: note_deleted.send(sender=Note, note_id=note_id))


def note_recognize(*, user, note: Note,
                   model: PersonalModel | Literal["standard"] | None = None) -> RecognitionJob:
    """Queue recognition again: after a failure, or to re-read with a newer model.

    `model` chooses what reads it: None, whatever reads the owner's notes when the run starts
    (their personal model, or the standard one); STANDARD_MODEL, the site's model; or one of
    the owner's promoted personal models (staff compare versions in the review panel).

    Refused while a run is queued or alive; a run whose worker died (no heartbeat for
    NOTES_JOB_STALL_SECONDS) is failed here and replaced, instead of freezing the note until
    the broker re-delivers it.

    Raises:
        PersonalModelError: `model` is another user's, or not a promoted version with a file.
    """
    _check_owner(user, note)
    request = model_request_check(note=note, model=model)
    with transaction.atomic():
        note = Note.objects.select_for_update().get(pk=note.pk)
        active = RecognitionJob.objects.select_for_update().filter(
            note=note, status__in=RecognitionJob.ACTIVE).first()
        if active is not None and not _job_stalled(active):
            raise NoteBusyError(ERROR_BUSY)
        if active is not None:
            RecognitionJob.objects.filter(pk=active.pk).update(
                status=RecognitionJob.Status.FAILED, error=ERROR_SUPERSEDED,
                finished=timezone.now())
        note.status, note.error, note.pages_done = Note.Status.QUEUED, "", 0
        note.save(update_fields=["status", "error", "pages_done", "updated"])
        try:
            with transaction.atomic():  # a concurrent retry that won the race: busy
                return _job_queue(note, *request)
        except IntegrityError:
            raise NoteBusyError(ERROR_BUSY) from None


def model_request_check(*, note: Note, model: PersonalModel | Literal["standard"] | None
                        ) -> tuple[str, PersonalModel | None]:
    """The job fields (`model_request`, `requested_model`) that ask for `model` to read `note`.

    A personal model reads only its owner's notes: one user's handwriting is no business of
    another's model, and staff choosing versions must not be able to mix them up.
    """
    if model is None:
        return RecognitionJob.ModelRequest.OWNER, None
    if model == STANDARD_MODEL:
        return RecognitionJob.ModelRequest.STANDARD, None
    if not isinstance(model, PersonalModel):
        raise TypeError(f"model must be a PersonalModel, {STANDARD_MODEL!r} or None: {model!r}")
    if model.owner_id != note.owner_id:
        raise PersonalModelError(ERROR_MODEL_NOT_OWNERS.format(model=model.pk, note=note.title))
    if not model.reads_notes:
        raise PersonalModelError(ERROR_MODEL_NOT_PROMOTED.format(model=model.pk))
    return RecognitionJob.ModelRequest.PERSONAL, model


def _job_stalled(job: RecognitionJob) -> bool:
    beat = job.heartbeat or job.started
    limit = timezone.now() - dt.timedelta(seconds=settings.NOTES_JOB_STALL_SECONDS)
    return job.status == RecognitionJob.Status.RUNNING and beat is not None and beat < limit


def _job_queue(note: Note, model_request: str = RecognitionJob.ModelRequest.OWNER,
               requested_model: PersonalModel | None = None) -> RecognitionJob:
    """Create the note's job and hand it to the broker once committed. A broker that cannot
    be reached fails the job with a message (the upload itself stays), never a 500."""
    job = RecognitionJob.objects.create(note=note, model_request=model_request,
                                        requested_model=requested_model)

    def enqueue():
        try:
            async_task("recognition.tasks.recognize_note", job.pk,
                       task_name=f"recognize-note-{note.pk}-job-{job.pk}")
        except Exception:  # noqa: BLE001 - any broker failure means the same to the user
            logger.exception("Could not queue recognition job %s", job.pk)
            now = timezone.now()
            RecognitionJob.objects.filter(pk=job.pk, status=RecognitionJob.Status.QUEUED).update(
                status=RecognitionJob.Status.FAILED, error=ERROR_NOT_QUEUED, finished=now)
            Note.objects.filter(pk=note.pk, status=Note.Status.QUEUED).update(
                status=Note.Status.FAILED, error=ERROR_NOT_QUEUED, updated=now)

    transaction.on_commit(enqueue)
    return job


def _delete_files_on_commit(note: Note) -> None:
    names = [note.original.name, note.thumbnail.name]
    names += [page.image.name for page in note.pages.all()]
    names = [name for name in names if name]

    def delete():
        for name in names:
            default_storage.delete(name)

    transaction.on_commit(delete)
