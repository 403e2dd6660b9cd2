"""Reads of the recognition app; every selector takes the user and sees only their rows."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from recognition.models import Collection, Note, Page, Tag


def collection_list(*, user) -> QuerySet[Collection]:
    return Collection.objects.filter(owner=user).annotate(note_count=Count("notes"))


def collection_get(*, user, pk: int) -> Collection:
    """The user's collection, or 404 (another user's collection does not exist for them)."""
    return get_object_or_404(Collection, owner=user, pk=pk)


def note_list(*, user, collection: Collection | None = None,
              tag: str | None = None) -> QuerySet[Note]:
    notes = Note.objects.filter(owner=user).select_related("collection").prefetch_related("tags")
    if collection is not None:
        notes = notes.filter(collection=collection)
    if tag:
        notes = notes.filter(tags__name=tag)
    return notes


def note_get(*, user, pk: int) -> Note:
    return get_object_or_404(Note.objects.select_related("collection"), owner=user, pk=pk)


def note_pages(*, note: Note) -> QuerySet[Page]:
    return note.pages.prefetch_related("lines")


def page_get(*, user, note_pk: int, number: int) -> Page:
    return get_object_or_404(Page, note__owner=user, note__pk=note_pk, number=number)


def tag_list(*, user) -> QuerySet[Tag]:
    return Tag.objects.filter(owner=user)
