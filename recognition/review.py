"""The staff review panel: its queues of lines, notes and jobs, and what staff do there.

Staff act on other users' notes, so nothing here filters by owner: every function takes the
staff member (`staff=`) and checks their permission instead (the admin checks it as well,
before it shows anything). Writes go through the services a note's owner uses: corrections
through `revisions.lines_update` (a revision, the search index via its signal, `corrected`),
re-runs through `services.note_recognize`; each one records a `StaffAction`.

A note's confidence is the mean confidence of its lines that the recognizer read. The mean,
not the minimum: nearly every page has one smudged line, so the minimum ranks most notes alike,
while the mean puts notes that were read badly throughout first; the lowest line is shown
beside it. Lines located but not read (their time ran out) have confidence 0 and no text: they
head the line queue, and are left out of the note's mean (the note is marked partly read).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    F,
    Max,
    Min,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from recognition import revisions, services
from recognition.exceptions import NoteBusyError, RecognitionAppError
from recognition.models import (
    Line,
    LineReview,
    Note,
    PersonalModel,
    RecognitionJob,
    Revision,
    StaffAction,
)
from recognition.search import crops
from recognition.selectors import note_last_model_version

PERM_VIEW_LINES = "recognition.view_line"
PERM_VIEW_NOTES = "recognition.view_note"
PERM_VIEW_JOBS = "recognition.view_recognitionjob"
PERM_REVIEW = "recognition.add_linereview"
PERM_CORRECT = "recognition.correct_line"
PERM_RERUN = "recognition.rerun_recognition"

ERROR_LINE_GONE = "Line {line_id} no longer exists (its note was recognized again)."


def _check(staff, permission: str) -> None:
    if not (staff.is_active and staff.is_staff and staff.has_perm(permission)):
        raise PermissionDenied


# Queues ----------------------------------------------------------------------------------------

def line_queue(*, staff) -> QuerySet[Line]:
    """Every user's lines, least confident first, with `model_version` and their review."""
    _check(staff, PERM_VIEW_LINES)
    return (Line.objects
            .select_related("page__note__owner", "page__note__collection", "review__reviewer")
            .annotate(model_version=note_last_model_version("page__note"))
            .order_by("confidence", "-page__note__created", "page__number", "order"))


def note_queue(*, staff) -> QuerySet[Note]:
    """Every user's notes, least confident first (notes without read lines last), with
    `mean_confidence`, `min_confidence`, `line_count`, `corrected_count`, `reviewed_count`
    and `model_version`."""
    _check(staff, PERM_VIEW_NOTES)
    read = Q(pages__lines__read=True)
    return (Note.objects.select_related("owner", "collection")
            .annotate(mean_confidence=Avg("pages__lines__confidence", filter=read),
                      min_confidence=Min("pages__lines__confidence", filter=read),
                      line_count=Count("pages__lines"),
                      corrected_count=Count("pages__lines",
                                            filter=Q(pages__lines__corrected=True)),
                      reviewed_count=Count("pages__lines__review"),
                      model_version=note_last_model_version())
            .order_by(F("mean_confidence").asc(nulls_last=True), "-created"))


def job_queue(*, staff) -> QuerySet[RecognitionJob]:
    """Every recognition job, newest first, with `stalled` (running, but no heartbeat for
    NOTES_JOB_STALL_SECONDS: its worker died) and `lost` (queued for NOTES_JOB_QUEUE_HOURS)."""
    _check(staff, PERM_VIEW_JOBS)
    now = timezone.now()
    stall = now - dt.timedelta(seconds=settings.NOTES_JOB_STALL_SECONDS)
    lost = now - dt.timedelta(hours=settings.NOTES_JOB_QUEUE_HOURS)
    return (RecognitionJob.objects.select_related("note__owner")
            .annotate(last_beat=Coalesce("heartbeat", "started"))
            .annotate(
                stalled=Case(When(status=RecognitionJob.Status.RUNNING, last_beat__lt=stall,
                                  then=Value(True)),
                             default=Value(False), output_field=BooleanField()),
                lost=Case(When(status=RecognitionJob.Status.QUEUED, created__lt=lost,
                               then=Value(True)),
                          default=Value(False), output_field=BooleanField())))


@dataclass(frozen=True)
class ModelVersion:
    """What the database knows of one model version: its jobs and the lines it read."""

    name: str
    jobs: int
    done: int
    failed: int
    last_used: dt.datetime
    notes: int  # notes whose last started job used it
    lines: int  # read lines of those notes
    mean_confidence: float | None


def model_versions(*, staff) -> list[ModelVersion]:
    """The model versions jobs ran with, last used first.

    Lines do not record the job that read them: a version's lines are those of the notes whose
    last started job used it (a line a person corrected keeps its machine confidence).
    """
    _check(staff, PERM_VIEW_JOBS)
    jobs = (RecognitionJob.objects.exclude(model_version="").values("model_version")
            .annotate(jobs=Count("pk"),
                      done=Count("pk", filter=Q(status=RecognitionJob.Status.DONE)),
                      failed=Count("pk", filter=Q(status=RecognitionJob.Status.FAILED)),
                      last_used=Max("created"))
            .order_by("-last_used"))
    lines = {row["version"]: row for row in (
        Line.objects.filter(read=True).annotate(version=note_last_model_version("page__note"))
        .values("version")
        .annotate(lines=Count("pk"), notes=Count("page__note", distinct=True),
                  mean=Avg("confidence")))}
    result = []
    for row in jobs:
        read = lines.get(row["model_version"], {})
        result.append(ModelVersion(
            name=row["model_version"], jobs=row["jobs"], done=row["done"],
            failed=row["failed"], last_used=row["last_used"], notes=read.get("notes", 0),
            lines=read.get("lines", 0), mean_confidence=read.get("mean")))
    return result


def line_crop(*, staff, line_id: int) -> bytes:
    """The line's image (a JPEG cut from its page, `crops.line_crop`) on anyone's note; 404
    when the line, its region or its page image is gone."""
    _check(staff, PERM_VIEW_LINES)
    line = get_object_or_404(Line.objects.select_related("page__note__owner"), pk=line_id)
    note = line.page.note
    return crops.line_crop(user=note.owner, note_pk=note.pk, line_id=line.pk)


# Corrections -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LineEdit:
    """A staff member's text for a line, and the note revision it was shown at."""

    text: str
    base_revision: int


@dataclass(frozen=True)
class Conflict:
    """A correction refused because the line changed after the staff member saw it."""

    line_id: int
    note_title: str
    base: int
    current: int
    current_text: str
    text: str  # the staff member's, not saved


@dataclass
class Correction:
    """What came of a round of corrections."""

    saved: list[int] = field(default_factory=list)  # ids of the lines whose text changed
    revisions: dict[int, int] = field(default_factory=dict)  # note id: its new revision
    conflicts: list[Conflict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def lines_correct(*, staff, edits: Mapping[int, LineEdit], view: str) -> Correction:
    """Save staff corrections of lines ({line id: edit}) as their owners' edits are saved, note
    by note: a revision authored by the staff member, `corrected` set, the search index told.
    A note whose edited lines changed since (a conflict) or that is being recognized is left
    as it is and reported. Each line saved, or confirmed unchanged, counts as reviewed.
    """
    _check(staff, PERM_CORRECT)
    result = Correction()
    lines = {line.pk: line for line in
             Line.objects.filter(pk__in=edits).select_related("page__note__owner")}
    by_note: dict[int, list[Line]] = {}
    for line in lines.values():
        by_note.setdefault(line.page.note_id, []).append(line)
    result.errors += [ERROR_LINE_GONE.format(line_id=pk) for pk in edits if pk not in lines]
    for note_lines in by_note.values():
        _note_correct(staff, note_lines, edits, result)
    _record(staff, StaffAction.Action.CORRECT, view, Line, list(edits), {
        "saved": result.saved, "revisions": {str(k): v for k, v in result.revisions.items()},
        "conflicts": [c.line_id for c in result.conflicts], "errors": result.errors})
    return result


def _note_correct(staff, lines: list[Line], edits: Mapping[int, LineEdit],
                  result: Correction) -> None:
    note = lines[0].page.note
    texts = {line.pk: edits[line.pk].text for line in lines}
    # The rows were shown together, so at the same revision; the oldest is the safe base.
    base = min(edits[line.pk].base_revision for line in lines)
    try:
        with transaction.atomic():
            # lines_update checks ownership with `user` and makes it the author: the owner
            # passes the check, and the revision is then put in the staff member's name, in
            # the same transaction (revisions.py has no separate author argument).
            revision = revisions.lines_update(user=note.owner, note=note, edits=texts,
                                              base_revision=base)
            if revision is not None:
                Revision.objects.filter(pk=revision.pk).update(author=staff)
                result.revisions[note.pk] = revision.number
                result.saved += list(Line.objects.filter(pk__in=texts, revision=revision.number)
                                     .values_list("pk", flat=True))
            _reviews_save(staff, list(texts))
    except revisions.RevisionConflict as err:
        result.conflicts += [
            Conflict(line_id=pk, note_title=note.title, base=err.base, current=err.current,
                     current_text=current, text=texts[pk])
            for pk, current in err.lines.items()]
    except RecognitionAppError as err:  # being recognized, a line too long
        result.errors.append(f"{note.title}: {err}")


# Reviews ---------------------------------------------------------------------------------------

def _reviews_save(staff, line_ids: list[int]) -> None:
    now = timezone.now()
    LineReview.objects.bulk_create(
        [LineReview(line_id=pk, reviewer=staff, reviewed=now) for pk in line_ids],
        update_conflicts=True, unique_fields=["line"], update_fields=["reviewer", "reviewed"])


@transaction.atomic
def lines_mark_reviewed(*, staff, line_ids: Iterable[int], view: str) -> int:
    """Mark lines reviewed by the staff member (again, if they were); returns how many."""
    _check(staff, PERM_REVIEW)
    ids = list(Line.objects.filter(pk__in=list(line_ids)).values_list("pk", flat=True))
    _reviews_save(staff, ids)
    _record(staff, StaffAction.Action.REVIEW, view, Line, ids, {"lines": len(ids)})
    return len(ids)


@transaction.atomic
def notes_mark_reviewed(*, staff, note_ids: Iterable[int], view: str) -> int:
    """Mark every line of the notes reviewed by the staff member; returns how many lines."""
    _check(staff, PERM_REVIEW)
    notes = list(Note.objects.filter(pk__in=list(note_ids)).values_list("pk", flat=True))
    ids = list(Line.objects.filter(page__note__in=notes).values_list("pk", flat=True))
    _reviews_save(staff, ids)
    _record(staff, StaffAction.Action.REVIEW, view, Note, notes, {"lines": len(ids)})
    return len(ids)


# Re-runs ---------------------------------------------------------------------------------------

@dataclass
class Rerun:
    """What came of re-running recognition: the notes queued, and those skipped as busy."""

    queued: list[Note] = field(default_factory=list)
    busy: list[Note] = field(default_factory=list)


def notes_recognize(*, staff, note_ids: Iterable[int], view: str,
                    model: PersonalModel | Literal["standard"] | None = None) -> Rerun:
    """Queue recognition of each note again (`services.note_recognize`, as its owner would);
    a note queued or being recognized is skipped.

    `model` chooses what reads them (see `services.note_recognize`); None, what reads each
    owner's notes. A personal model must be a promoted one of every note's owner, or nothing
    is queued.

    Raises:
        PersonalModelError: `model` cannot read one of the notes (another owner's, say).
    """
    _check(staff, PERM_RERUN)
    notes = list(Note.objects.filter(pk__in=list(note_ids)).select_related("owner")
                 .order_by("pk"))
    for note in notes:  # all or nothing: refused before the first note is queued
        services.model_request_check(note=note, model=model)
    result = _recognize(notes, model)
    detail = {"queued": [n.pk for n in result.queued], "busy": [n.pk for n in result.busy]}
    if model == services.STANDARD_MODEL:
        detail["model"] = model
    elif model is not None:
        detail.update(model=model.version, personal_model=model.pk)
    _record(staff, StaffAction.Action.RERUN, view, Note, [n.pk for n in notes], detail)
    return result


def notes_model_choices(*, staff, note_ids: Iterable[int]) -> list[PersonalModel]:
    """The personal models that may read all these notes again: the promoted versions (with a
    file) of their owner when they all have one owner, newest first; none otherwise, as a
    personal model reads only its owner's notes. The standard model may read any note."""
    _check(staff, PERM_RERUN)
    owners = set(Note.objects.filter(pk__in=list(note_ids)).values_list("owner", flat=True))
    if len(owners) != 1:
        return []
    return list(PersonalModel.objects.filter(PersonalModel.READERS, owner_id=owners.pop())
                .order_by("-created", "-pk"))


def jobs_retry(*, staff, job_ids: Iterable[int], view: str) -> Rerun:
    """Run the jobs' notes again (each note once); a note busy with another run is skipped."""
    _check(staff, PERM_RERUN)
    ids = list(RecognitionJob.objects.filter(pk__in=list(job_ids)).values_list("pk", flat=True))
    notes = (Note.objects.filter(jobs__in=ids).distinct().select_related("owner")
             .order_by("pk"))
    result = _recognize(notes)
    _record(staff, StaffAction.Action.RETRY, view, RecognitionJob, ids,
            {"queued": [n.pk for n in result.queued], "busy": [n.pk for n in result.busy]})
    return result


def _recognize(notes: Iterable[Note], model=None) -> Rerun:
    result = Rerun()
    for note in notes:
        try:
            services.note_recognize(user=note.owner, note=note, model=model)
        except NoteBusyError:
            result.busy.append(note)
        else:
            result.queued.append(note)
    return result


# Audit -----------------------------------------------------------------------------------------

def _record(staff, action: str, view: str, model, ids: list[int], detail: dict) -> StaffAction:
    entry = StaffAction(actor=staff, actor_name=staff.get_username(), action=action,
                        view=view[:200], target=model._meta.label_lower, object_ids=ids,
                        detail=detail)
    entry.full_clean()
    entry.save()
    return entry
