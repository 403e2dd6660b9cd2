"""Filters of the review queues: collection, note, model version, reviewed, corrected, stuck."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import F, Q

from recognition.models import Collection, Note, RecognitionJob


class CollectionFilter(admin.SimpleListFilter):
    """By collection, named with its owner: every user has an "Inbox"."""

    title = "collection"
    parameter_name = "collection"
    path = "collection"  # from the filtered rows to the collection

    def lookups(self, request, model_admin):
        collections = (Collection.objects.filter(notes__isnull=False).distinct()
                       .select_related("owner").order_by("owner__username", "name"))
        return [(c.pk, f"{c.owner.username}: {c.name}") for c in collections]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{f"{self.path}__pk": self.value()})
        return queryset


class LineCollectionFilter(CollectionFilter):
    path = "page__note__collection"


class NoteFilter(admin.SimpleListFilter):
    """The lines of one note: what a note's line count links to (listed only while chosen)."""

    title = "note"
    parameter_name = "note"

    def lookups(self, request, model_admin):
        chosen = self.value() or ""
        note = Note.objects.filter(pk=chosen).first() if chosen.isdigit() else None
        return [(str(note.pk), note.title)] if note else []

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(page__note__pk=self.value())
        return queryset


class ModelVersionFilter(admin.SimpleListFilter):
    """By the model version of the note's last started job (`selectors.note_last_model_version`)."""

    title = "model version"
    parameter_name = "model"

    def lookups(self, request, model_admin):
        versions = (RecognitionJob.objects.exclude(model_version="").order_by("model_version")
                    .values_list("model_version", flat=True).distinct())
        return [(v, v) for v in versions]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(model_version=self.value())
        return queryset


class YesNoFilter(admin.SimpleListFilter):
    yes: Q
    no: Q

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(self.yes)
        if self.value() == "no":
            return queryset.filter(self.no)
        return queryset


class LineReviewedFilter(YesNoFilter):
    title = "reviewed"
    parameter_name = "reviewed"
    yes, no = Q(review__isnull=False), Q(review__isnull=True)


class NoteReviewedFilter(YesNoFilter):
    """Reviewed: every line of it (a note without lines is not)."""

    title = "reviewed"
    parameter_name = "reviewed"
    yes = Q(line_count__gt=0, reviewed_count=F("line_count"))
    no = Q(line_count=0) | Q(reviewed_count__lt=F("line_count"))


class NoteCorrectedFilter(YesNoFilter):
    """Corrected: some line of it was edited by a person."""

    title = "corrected"
    parameter_name = "corrected"
    yes, no = Q(corrected_count__gt=0), Q(corrected_count=0)


class JobStuckFilter(admin.SimpleListFilter):
    """Jobs no worker will finish (`review.job_queue`): a retry starts them again."""

    title = "stuck"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        return [("stalled", "Stalled (running, no heartbeat)"),
                ("lost", "Lost (queued too long)")]

    def queryset(self, request, queryset):
        if self.value() == "stalled":
            return queryset.filter(stalled=True)
        if self.value() == "lost":
            return queryset.filter(lost=True)
        return queryset
