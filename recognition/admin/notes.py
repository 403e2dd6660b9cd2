"""The note queue: every user's notes, least confident first (see `recognition.review` for
what a note's confidence is), with bulk review and re-runs."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import DateFieldListFilter, RelatedOnlyFieldListFilter
from django.db.models import F
from django.urls import reverse
from django.utils.html import format_html

from recognition import review
from recognition.admin import filters
from recognition.admin.base import ReadOnlyAdmin, ReviewMedia, percent, view_name
from recognition.admin.lines import REVIEWED
from recognition.admin.rerun import choose_model_and_rerun, rerun_messages
from recognition.models import Note


@admin.register(Note)
class NoteAdmin(ReadOnlyAdmin):
    list_display = ["title", "owner", "collection", "status", "mean_shown", "min_shown",
                    "lines_shown", "corrected_count", "reviewed_shown", "model_version",
                    "created"]
    list_filter = [
        ("owner", RelatedOnlyFieldListFilter), filters.CollectionFilter,
        filters.ModelVersionFilter, "status", filters.NoteCorrectedFilter,
        filters.NoteReviewedFilter, ("created", DateFieldListFilter), "kind",
    ]
    search_fields = ["title", "original_name", "owner__username"]
    actions = ["mark_reviewed", "rerun", "rerun_with_model"]
    show_facets = admin.ShowFacets.NEVER
    fields = ["title", "owner", "collection", "note_date", "status", "error", "kind",
              "original_name", "content_type", "size", "sha256", "storage_key", "pages_done",
              "pages_total", "revision", "created", "updated", "text"]
    Media = ReviewMedia

    def get_queryset(self, request):
        return review.note_queue(staff=request.user)

    def get_ordering(self, request):
        # An annotation, which `ordering` cannot name (the admin checks it against the model).
        return [F("mean_confidence").asc(nulls_last=True), "-created"]

    def has_review_permission(self, request) -> bool:
        return request.user.has_perm(review.PERM_REVIEW)

    def has_rerun_permission(self, request) -> bool:
        return request.user.has_perm(review.PERM_RERUN)

    @admin.display(description="Confidence (mean)", ordering="mean_confidence")
    def mean_shown(self, note: Note) -> str:
        return percent(note.mean_confidence)

    @admin.display(description="Lowest line", ordering="min_confidence")
    def min_shown(self, note: Note) -> str:
        return percent(note.min_confidence)

    @admin.display(description="Lines", ordering="line_count")
    def lines_shown(self, note: Note) -> str:
        url = reverse("admin:recognition_line_changelist")
        return format_html('<a href="{}?note={}">{}</a>', url, note.pk, note.line_count)

    @admin.display(description="Corrected", ordering="corrected_count")
    def corrected_count(self, note: Note) -> int:
        return note.corrected_count

    @admin.display(description="Reviewed", ordering="reviewed_count")
    def reviewed_shown(self, note: Note) -> str:
        return f"{note.reviewed_count} of {note.line_count}"

    @admin.display(description="Model version", ordering="model_version")
    def model_version(self, note: Note) -> str:
        return note.model_version or "–"

    @admin.action(description="Mark every line of the selected notes reviewed",
                  permissions=["review"])
    def mark_reviewed(self, request, queryset):
        count = review.notes_mark_reviewed(staff=request.user,
                                           note_ids=queryset.values_list("pk", flat=True),
                                           view=view_name(request))
        self.message_user(request, REVIEWED.format(count=count))

    @admin.action(description="Re-run recognition", permissions=["rerun"])
    def rerun(self, request, queryset):
        result = review.notes_recognize(staff=request.user,
                                        note_ids=queryset.values_list("pk", flat=True),
                                        view=view_name(request))
        rerun_messages(self, request, result)

    @admin.action(description="Re-run recognition with another model version…",
                  permissions=["rerun"])
    def rerun_with_model(self, request, queryset):
        note_ids = set(queryset.values_list("pk", flat=True))
        return choose_model_and_rerun(self, request, queryset, note_ids, action="rerun_with_model")
