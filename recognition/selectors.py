"""Reads of the recognition app; every selector takes the user and sees only their rows."""

from __future__ import annotations

import bisect
import difflib
import functools
import operator
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from recognition.models import Collection, Line, Note, Page, RecognitionJob, Revision, Tag


def collection_list(*, user) -> QuerySet[Collection]:
    return Collection.objects.filter(owner=user).annotate(note_count=Count("notes"))


def collection_get(*, user, pk: int) -> Collection:
    """The user's collection, or 404 (another user's collection does not exist for them)."""
    return get_object_or_404(Collection, owner=user, pk=pk)


def note_list(*, user, collection: Collection | None = None,
              tag: str | None = None) -> QuerySet[Note]:
    """The user's notes, each with `partly_read`: whether a page ran out of reading time."""
    notes = (Note.objects.filter(owner=user).select_related("collection")
             .prefetch_related("tags").annotate(partly_read=note_partly_read()))
    if collection is not None:
        notes = notes.filter(collection=collection)
    if tag:
        notes = notes.filter(tags__name=tag)
    return notes


def note_partly_read() -> Exists:
    """An annotation of notes: some page of it was only partly read (its time ran out)."""
    return Exists(Page.objects.filter(note=OuterRef("pk"), partial=True))


def note_last_model_version(note: str = "pk") -> Subquery:
    """An annotation: the model version of the note's last job that started (a queued job, or
    one that failed before its model loaded, has none); `note` is the path to the note from the
    annotated rows. The review queues, personal models' re-reading and `recognize_again
    --outdated` all ask "which model read this note last" this one way."""
    jobs = (RecognitionJob.objects.filter(note=OuterRef(note)).exclude(model_version="")
            .order_by("-created", "-pk"))
    return Subquery(jobs.values("model_version")[:1])


def note_get(*, user, pk: int) -> Note:
    return get_object_or_404(Note.objects.select_related("collection"), owner=user, pk=pk)


def note_pages(*, note: Note) -> QuerySet[Page]:
    return note.pages.prefetch_related("lines")


def page_get(*, user, note_pk: int, number: int) -> Page:
    return get_object_or_404(Page, note__owner=user, note__pk=note_pk, number=number)


def tag_list(*, user) -> QuerySet[Tag]:
    return Tag.objects.filter(owner=user)


def note_lines(*, note: Note) -> QuerySet[Line]:
    return Line.objects.filter(page__note=note).select_related("page").order_by(
        "page__number", "order")


def revision_list(*, note: Note) -> QuerySet[Revision]:
    """The note's revisions, newest first, without their lines.

    The line columns are deferred: a history page lists who changed what and when, and a long
    note's snapshots would be most of what it reads. `revision_lines_attach` adds the lines.
    """
    return note.revisions.select_related("author").defer("snapshot", "delta")


def revision_get(*, note: Note, number: int) -> Revision:
    """One revision of the note (without its lines, as in `revision_list`), or 404."""
    return get_object_or_404(revision_list(note=note), number=number)


def revision_lines(*, note: Note, number: int) -> list[dict]:
    """Every line of the note as it was at revision `number` ([] for a revision it lacks)."""
    return _revisions_replay(note.pk, {number}).get(number, [])


def revision_lines_attach(*, revisions: Iterable[Revision]) -> list[Revision]:
    """Set `lines` (hence `text`) on revisions of one note, replaying each delta only once."""
    revisions = list(revisions)
    if revisions:
        lines = _revisions_replay(revisions[0].note_id, {r.number for r in revisions})
        for revision in revisions:
            revision.lines = lines[revision.number]
    return revisions


def _revisions_replay(note_id: int, numbers: set[int]) -> dict[int, list[dict]]:
    """The lines of the revisions `numbers`: from the nearest snapshot at or below each, the
    deltas after it applied in order. Reads only the rows those spans need."""
    snapshots = list(Revision.objects.filter(
        note_id=note_id, snapshot__isnull=False, number__lte=max(numbers),
    ).order_by("number").values_list("number", flat=True))
    spans: list[list[int]] = []
    for number in sorted(numbers):
        at = bisect.bisect_right(snapshots, number)
        if at == 0:
            continue  # before the first revision: no lines
        start = snapshots[at - 1]
        if spans and start <= spans[-1][1] + 1:
            spans[-1][1] = max(spans[-1][1], number)
        else:
            spans.append([start, number])
    if not spans:
        return {}
    rows = Revision.objects.filter(
        functools.reduce(operator.or_, (Q(number__range=span) for span in spans)),
        note_id=note_id).order_by("number").only("number", "snapshot", "delta")
    found: dict[int, list[dict]] = {}
    lines: list[dict] = []
    for row in rows:
        lines = row.lines_after(lines)  # a span starts at a snapshot: never a stale base
        if row.number in numbers:
            found[row.number] = lines
    return found


@dataclass(frozen=True)
class DiffRow:
    """One line in the comparison of two revisions."""

    page: int
    kind: str  # "same" | "changed" | "added" | "removed"
    old: str
    new: str
    # For changed lines: (op, words) runs, op in "same" | "removed" | "added".
    segments: tuple[tuple[str, str], ...] = ()


def revision_diff(old: list[dict], new: list[dict]) -> list[DiffRow]:
    """Compare two revision snapshots line by line (lines are matched by id, so an edited line
    shows as changed, with its words diffed, not as one line removed and another added)."""
    old_by_id = {line["id"]: line for line in old}
    new_ids = {line["id"] for line in new}
    rows: list[DiffRow] = []
    removed = [line for line in old if line["id"] not in new_ids and line["text"]]
    for line in new:
        before = old_by_id.get(line["id"])
        if not line["text"] and not (before or {}).get("text"):
            continue  # empty before and after (a line located but not read): nothing to show
        if before is None:
            rows.append(DiffRow(line["page"], "added", "", line["text"]))
        elif before["text"] == line["text"]:
            rows.append(DiffRow(line["page"], "same", line["text"], line["text"]))
        else:
            rows.append(DiffRow(line["page"], "changed", before["text"], line["text"],
                                _word_diff(before["text"], line["text"])))
    # Removed lines go back where they were: after the line that preceded them before.
    for line in removed:
        index = next((i for i, row in enumerate(rows) if row.page > line["page"]), len(rows))
        rows.insert(index, DiffRow(line["page"], "removed", line["text"], ""))
    return rows


def _word_diff(old: str, new: str) -> tuple[tuple[str, str], ...]:
    a, b = old.split(), new.split()
    segments: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            segments.append(("same", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            segments.append(("removed", " ".join(a[i1:i2])))
        if j2 > j1:
            segments.append(("added", " ".join(b[j1:j2])))
    return tuple(segments)
