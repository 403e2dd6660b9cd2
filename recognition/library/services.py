"""Writes of the library: saved searches, and the bulk actions on selected notes.

A bulk action takes note ids as they came from the page and acts only on the user's own notes
among them: another user's id (or one already deleted) is never touched and is counted as
`missing`, so the page can say so without confirming that it exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone

from recognition import services
from recognition.exceptions import NoteBusyError
from recognition.library.forms import library_query
from recognition.models import Collection, Note, SavedSearch, Tag
from recognition.text import clean_label

ERROR_SEARCH_NAME_TAKEN = "You already have a saved search named “{name}”."
ERROR_SEARCH_NAME_EMPTY = "A saved search needs a name."
ERROR_NO_SUCH_TAG = "None of your notes has the tag “{name}”."


@dataclass(frozen=True)
class BulkResult:
    """What a bulk action did: notes changed, notes skipped (busy), ids not found."""

    done: int
    skipped: int = 0
    missing: int = 0


# Saved searches ---------------------------------------------------------------------------------

def saved_search_create(*, user, name: str, query: str) -> SavedSearch:
    """Save the library's filters (a query string; its page number is dropped) under a name."""
    name = clean_label(name)[:100].rstrip()
    if not name:
        raise ValidationError(ERROR_SEARCH_NAME_EMPTY)
    search = SavedSearch(owner=user, name=name,
                         query=library_query(QueryDict(query.lstrip("?")))[:1000])
    if SavedSearch.objects.filter(owner=user, name=name).exists():
        raise ValidationError(ERROR_SEARCH_NAME_TAKEN.format(name=name))
    search.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            search.save()
    except IntegrityError:  # the same name saved at the same moment by another tab
        raise ValidationError(ERROR_SEARCH_NAME_TAKEN.format(name=name)) from None
    return search


def saved_search_delete(*, user, saved_search: SavedSearch) -> None:
    if saved_search.owner_id != user.id:
        raise PermissionDenied
    saved_search.delete()


# Bulk actions -----------------------------------------------------------------------------------

def _owned(user, ids: Iterable[int]) -> tuple[list[int], int]:
    """The user's note ids among `ids`, and how many of `ids` are not theirs (or gone)."""
    wanted = set(ids)
    found = list(Note.objects.filter(owner=user, pk__in=wanted).values_list("pk", flat=True))
    return found, len(wanted) - len(found)


@transaction.atomic
def notes_move(*, user, note_ids: Iterable[int], collection: Collection) -> BulkResult:
    """Move the user's notes among `note_ids` into `collection` (theirs too)."""
    if collection.owner_id != user.id:
        raise PermissionDenied
    found, missing = _owned(user, note_ids)
    Note.objects.filter(pk__in=found).update(collection=collection, updated=timezone.now())
    return BulkResult(done=len(found), missing=missing)


@transaction.atomic
def notes_tag_add(*, user, note_ids: Iterable[int], name: str) -> BulkResult:
    """Give the user's notes among `note_ids` the tag `name` (made if new)."""
    found, missing = _owned(user, note_ids)
    if not found:  # no tag made for nothing
        return BulkResult(done=0, missing=missing)
    [tag] = services._tags(user, [name])  # the one way tag names are cleaned
    through = Note.tags.through
    through.objects.bulk_create([through(note_id=pk, tag_id=tag.pk) for pk in found],
                                ignore_conflicts=True)
    Note.objects.filter(pk__in=found).update(updated=timezone.now())
    return BulkResult(done=len(found), missing=missing)


@transaction.atomic
def notes_tag_remove(*, user, note_ids: Iterable[int], name: str) -> BulkResult:
    """Take the tag `name` off the user's notes among `note_ids` (the tag itself stays)."""
    tag = Tag.objects.filter(owner=user, name=clean_label(name)).first()
    if tag is None:
        raise ValidationError(ERROR_NO_SUCH_TAG.format(name=clean_label(name)))
    found, missing = _owned(user, note_ids)
    had = list(Note.tags.through.objects.filter(note_id__in=found, tag=tag)
               .values_list("note_id", flat=True))
    Note.tags.through.objects.filter(note_id__in=had, tag=tag).delete()
    Note.objects.filter(pk__in=had).update(updated=timezone.now())
    return BulkResult(done=len(had), missing=missing)


def notes_recognize(*, user, note_ids: Iterable[int]) -> BulkResult:
    """Queue recognition again for the user's notes among `note_ids`; a note already queued
    or being recognized is skipped (counted in `skipped`), as the note page refuses it."""
    found, missing = _owned(user, note_ids)
    done = skipped = 0
    for note in Note.objects.filter(pk__in=found).order_by("pk"):
        try:
            services.note_recognize(user=user, note=note)
        except NoteBusyError:
            skipped += 1
        else:
            done += 1
    return BulkResult(done=done, skipped=skipped, missing=missing)


@transaction.atomic
def notes_delete(*, user, note_ids: Iterable[int]) -> BulkResult:
    """Delete the user's notes among `note_ids` with their files (after the commit)."""
    found, missing = _owned(user, note_ids)
    for note in Note.objects.filter(pk__in=found):
        services.note_delete(user=user, note=note)
    return BulkResult(done=len(found), missing=missing)
