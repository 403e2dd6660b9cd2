"""Reads of the library: one page of a user's notes, filtered and sorted; saved searches.

A page is read in two steps: the ids of the page (the filters, the sort and the count touch
only the narrow columns of the note table), then those notes with what their cards show: the
first characters of the text (`Substr` in SQL, so that 5,000 texts are never loaded), the
partly-read badge, the tags. See bench/library.py for the timings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet
from django.db.models.functions import Lower, Substr
from django.shortcuts import get_object_or_404
from django.utils import timezone

from recognition.models import Collection, Line, Note, SavedSearch, Tag
from recognition.selectors import note_partly_read

PER_PAGE = 48
# The threshold (NOTES_LOW_CONFIDENCE's default) whose unsure lines migration 0010 indexes.
INDEXED_THRESHOLD = 0.6
SNIPPET_CHARS = 160  # read from the database; the card shows the first line of them
FIRST_LINE_CHARS = 120

ORDERINGS = {
    "newest": ("-created", "-pk"),
    "oldest": ("created", "pk"),
    "title": (Lower("title"), "pk"),
    "date": (F("note_date").desc(nulls_last=True), "-created", "-pk"),
    "updated": ("-updated", "-pk"),
}


class UnsureLine(Func):
    """A line condition: no person corrected the line, and some word of its `words` was read
    with a confidence below `threshold` (what the note page marks as unsure,
    `templatetags.notes.marked_words`).

    PostgreSQL asks a jsonpath of the jsonb. SQLite would parse every line's JSON (json_each),
    most of the filter's cost (bench/library.py), so a GLOB over the stored text comes first,
    letting through only lines where some confidence may be below. Both are written out
    literally, not as parameters: for the default threshold (`INDEXED_THRESHOLD`), migration
    0010 made a partial index of exactly these lines, which the database uses only when the
    query repeats its condition word for word.
    """

    output_field = BooleanField()
    conditional = True
    arity = 2

    def __init__(self, *, threshold: float):
        super().__init__(F("corrected"), F("words"))
        self.threshold = float(threshold)

    def as_sql(self, compiler, connection, **extra):
        (corrected, params), (words, words_params) = (
            compiler.compile(e) for e in self.source_expressions)
        assert not params and not words_params  # two plain columns
        if connection.vendor == "postgresql":
            return (f"(NOT {corrected} AND jsonb_path_exists({words}, "
                    f"'{unsure_jsonpath(self.threshold)}'))"), ()
        globs = " OR ".join(f"{words} GLOB '{pattern}'"
                            for pattern in confidence_globs(self.threshold))
        return (f"({corrected} = 0 AND ({globs}) AND EXISTS (SELECT 1 FROM json_each({words}) "
                "AS word WHERE json_extract(word.value, '$.confidence') < %s))"), (
            self.threshold,)


def unsure_jsonpath(threshold: float) -> str:
    """The jsonpath of a word array that holds a word below `threshold` (PostgreSQL)."""
    return f"$[*] ? (@.confidence < {float(threshold)!r})"


def confidence_globs(threshold: float) -> list[str]:
    """GLOB patterns of which one matches the JSON text of a line's `words` wherever a word's
    confidence is below `threshold` (false matches allowed: the exact check follows them).

    Django stores JSON with Python's `json.dumps`: `"confidence": 0.4512`, floats in their
    shortest repr. A number below a threshold 0.d1d2... is "0.", then digits that fall below
    the threshold's at some place (`0.[0-5]*` for 0.6), or stop before it ("0.6" for 0.65);
    or is negative, an integer 0, or tiny enough for an exponent.
    """
    head = '*"confidence": '
    if threshold > 1:
        return [head + "*"]
    patterns = [head + "-*", head + "[0-9]e-*", head + "[0-9].[0-9]*e-*"]
    if threshold == 1:
        return [*patterns, head + "0*"]
    digits = f"{threshold:.9f}".split(".")[1].rstrip("0")
    if threshold > 0:
        patterns.append(head + "0[^.0-9]*")
    for place, digit in enumerate(digits):
        if digit != "0":
            patterns.append(f"{head}0.{digits[:place]}[0-{int(digit) - 1}]*")
        if place:
            patterns.append(f"{head}0.{digits[:place]}[^0-9]*")
    return patterns


def note_unsure() -> Exists:
    """An annotation of notes: a line of it that no person corrected has an unsure word."""
    return Exists(Line.objects.filter(page__note=OuterRef("pk")).filter(
        UnsureLine(threshold=settings.NOTES_LOW_CONFIDENCE)))


@dataclass(frozen=True)
class LibraryFilters:
    """What the library shows: all optional (`forms.LibraryFilterForm.filters`)."""

    collection: Collection | None = None
    tag: Tag | None = None
    status: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    unsure: bool = False
    sort: str = "newest"


def note_library(*, user, filters: LibraryFilters) -> QuerySet[Note]:
    """The user's notes that pass `filters`, in its sort order (no annotations)."""
    notes = Note.objects.filter(owner=user)
    if filters.collection is not None:
        notes = notes.filter(collection=filters.collection)
    if filters.tag is not None:
        notes = notes.filter(tags=filters.tag)
    if filters.status:
        notes = notes.filter(status=filters.status)
    # The note's date where it has one, else the day it was uploaded.
    # Days of uploading compared as datetimes (`created__date` would call a function per row).
    if filters.date_from:
        start = _day_start(filters.date_from)
        notes = notes.filter(Q(note_date__gte=filters.date_from)
                             | Q(note_date__isnull=True, created__gte=start))
    if filters.date_to:
        after = filters.date_to + dt.timedelta(days=1)
        notes = notes.filter(Q(note_date__lte=filters.date_to)
                             | Q(note_date__isnull=True, created__lt=_day_start(after)))
    if filters.unsure:
        notes = notes.filter(note_unsure())
    return notes.order_by(*ORDERINGS.get(filters.sort, ORDERINGS["newest"]))


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day`, in the current time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def library_page(*, user, filters: LibraryFilters, number) -> Page:
    """One page of the library (`PER_PAGE` notes; a page number out of range gives the last,
    one that is no number the first), each note with `snippet` (its first line),
    `partly_read` and `tag_list`."""
    ids = note_library(user=user, filters=filters).values_list("pk", flat=True)
    page = Paginator(ids, PER_PAGE).get_page(number)
    page_ids = list(page.object_list)
    by_id = {note.pk: note for note in (
        Note.objects.filter(owner=user, pk__in=page_ids).defer("text", "error")
        .select_related("collection").prefetch_related("tags")
        .annotate(partly_read=note_partly_read(), snippet=Substr("text", 1, SNIPPET_CHARS)))}
    notes = [by_id[pk] for pk in page_ids if pk in by_id]
    for note in notes:
        note.snippet = first_line(note.snippet)
        note.tag_list = list(note.tags.all())  # the prefetched tags, cloned once
    page.object_list = notes
    return page


def first_line(text: str) -> str:
    """The first line of a text that has any, shortened to `FIRST_LINE_CHARS` (with "…")."""
    line = next((part.strip() for part in (text or "").split("\n") if part.strip()), "")
    if len(line) > FIRST_LINE_CHARS:
        return line[:FIRST_LINE_CHARS - 1].rstrip() + "…"
    return line


def notes_selected(*, user, ids) -> QuerySet[Note]:
    """The user's notes among `ids` (another user's ids simply match nothing)."""
    return Note.objects.filter(owner=user, pk__in=list(ids)).select_related("collection")


def saved_search_list(*, user) -> QuerySet[SavedSearch]:
    return SavedSearch.objects.filter(owner=user)


def saved_search_get(*, user, pk) -> SavedSearch:
    """The user's saved search, or 404."""
    return get_object_or_404(SavedSearch, owner=user, pk=pk)
