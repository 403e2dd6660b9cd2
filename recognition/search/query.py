"""Searching a user's notes: the selector the pages and the API call.

    search(user, '"Stanford" lecture -draft', tag="physics")  ->  [Hit, ...]

Hits are lines, best first: lines with the words as typed, then lines matching only through
near-misses of the words (the recognizer read "Stamford"), then lines matching only through the
recognizer's alternative readings; within a tier, by the database's relevance score.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.safestring import SafeString

from recognition.models import Collection, Line, Note, SearchLine
from recognition.search import fuzzy, plan, syntax
from recognition.search.backends import search_backend
from recognition.search.highlight import Highlight, highlight


@dataclass(frozen=True)
class Hit:
    """A line that matched, with what is needed to show and locate it."""

    note_id: int
    note_title: str
    collection_id: int
    collection_name: str
    note_date: dt.date  # when the note was written, else when it was uploaded
    line_id: int
    page_number: int
    polygon: list  # [[x, y], ...] in page image pixels; empty for a line typed in
    text: str
    snippet: SafeString  # HTML: the escaped text with <mark>ed matches
    highlights: tuple[tuple[int, int], ...]  # (start, end) offsets of the matches in `text`
    match: str  # "exact", "fuzzy" or "alternative"
    score: float


class SearchResults:
    """A user's search, sliced like a queryset (a Django Paginator takes it as it is).

    Parsing and the typo lookup happen once; each slice is one query for its lines.
    """

    def __init__(self, user, q: str, *, collection: Collection | int | None = None,
                 tag: str | None = None, date_from: dt.date | None = None,
                 date_to: dt.date | None = None):
        self.user = user
        self.query = syntax.parse(q)
        self.filters = {"collection": collection, "tag": tag, "date_from": date_from,
                        "date_to": date_to}
        self.backend = search_backend()

    @cached_property
    def tiers(self) -> list[tuple[plan.Tier, plan.Condition]]:
        variants = self.backend.similar_words(owner_id=self.user.pk,
                                              wanted=fuzzy.wanted_words(self.query))
        return plan.tiers(self.query, variants)

    @cached_property
    def matches(self) -> QuerySet[SearchLine] | None:
        """The matching index entries, best first (None for a query with nothing to find)."""
        if self.query.is_empty:
            return None
        entries = _entries(self.backend, self.user, **self.filters)
        return self.backend.matching(entries, self.tiers).order_by(
            "tier", "-score", "-note_id", "line_id")

    def count(self) -> int:
        if self.matches is None:
            return 0
        with self.backend.session():
            return self.matches.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[Hit]:
        if not isinstance(key, slice):
            raise TypeError("Search results are read in slices.")
        if self.matches is None:
            return []
        with self.backend.session():
            rows = list(self.matches.values_list("line_id", "tier", "score")[key])
        lines = Line.objects.filter(page__note__owner=self.user).select_related(
            "page__note__collection").in_bulk([line_id for line_id, _, _ in rows])
        terms = self.tiers[-1][1].terms  # the widest condition marks every kind of match
        return [
            _hit(lines[line_id], plan.Tier(tier), score, terms)
            for line_id, tier, score in rows if line_id in lines  # a line deleted just now
        ]


def search(user, q: str, *, collection: Collection | int | None = None, tag: str | None = None,
           date_from: dt.date | None = None, date_to: dt.date | None = None,
           limit: int = 20, offset: int = 0) -> list[Hit]:
    """The user's lines matching `q`, best first: `limit` of them from `offset`."""
    results = SearchResults(user, q, collection=collection, tag=tag, date_from=date_from,
                            date_to=date_to)
    return results[offset:offset + limit]


def _entries(backend, user, *, collection, tag, date_from, date_to) -> QuerySet:
    """The user's index entries within the filters, as the backend starts a search."""
    # Entries of lines deleted by a recognition run still in progress wait for its end to be
    # dropped; until then they must not count.
    entries = backend.entries().filter(owner=user).filter(
        Exists(Line.objects.filter(pk=OuterRef("line_id"))))
    if collection is None and not tag and not date_from and not date_to:
        return entries
    # The filters are about notes: a user has thousands of notes, not hundreds of thousands of
    # lines, so the database works out the notes once and checks each line's note in that set.
    notes = Note.objects.filter(owner=user)
    if collection is not None:
        notes = notes.filter(collection=collection)
    if tag:
        notes = notes.filter(tags__name=tag)
    if date_from or date_to:
        notes = notes.alias(day=Coalesce("note_date", TruncDate("created")))
        if date_from:
            notes = notes.filter(day__gte=date_from)
        if date_to:
            notes = notes.filter(day__lte=date_to)
    return entries.filter(note__in=notes.values("pk"))


def _hit(line: Line, tier: plan.Tier, score: float, terms) -> Hit:
    note = line.page.note
    # Only a hit found through them shows which words' alternative readings matched.
    words = line.words if tier == plan.Tier.ALTERNATIVE else ()
    marked: Highlight = highlight(line.text, terms, words or ())
    return Hit(
        note_id=note.pk, note_title=note.title, collection_id=note.collection_id,
        collection_name=note.collection.name,
        note_date=note.note_date or timezone.localdate(note.created),
        line_id=line.pk, page_number=line.page.number, polygon=line.polygon, text=line.text,
        snippet=marked.snippet, highlights=marked.spans, match=tier.label, score=score,
    )
