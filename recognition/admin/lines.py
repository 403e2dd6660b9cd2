"""The line queue: every user's lines, least confident first, each beside its image, with
inline correction (through `review.lines_correct`) and bulk review."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import DateFieldListFilter, RelatedOnlyFieldListFilter
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from recognition import review
from recognition.admin import filters
from recognition.admin.base import ReadOnlyAdmin, ReviewMedia, percent, view_name
from recognition.admin.rerun import choose_model_and_rerun, rerun_messages
from recognition.models import Line, Page, Revision
from recognition.templatetags.notes import marked_words

SAVED = "{count} line(s) corrected: {notes} new revision(s), in your name."
UNCHANGED = "No line was changed."
CONFLICT = ("Not saved: line {line} of “{title}” was changed after you loaded this page "
            "(revision {base}, now {current}). It now reads “{current_text}”; yours was "
            "“{text}”. Merge them and save again.")
REVIEWED = "{count} line(s) marked reviewed."

# The correction inputs of a row: its text, the text it was shown with, the note's revision.
FIELD_TEXT, FIELD_ORIGINAL, FIELD_BASE = "correct-{}", "original-{}", "base-{}"


@admin.register(Line)
class LineAdmin(ReadOnlyAdmin):
    list_display = ["image", "reading", "confidence_shown", "note_shown", "owner",
                    "corrected", "reviewed"]
    list_filter = [
        ("page__note__owner", RelatedOnlyFieldListFilter), filters.LineCollectionFilter,
        filters.NoteFilter, filters.ModelVersionFilter, "page__note__status", "corrected",
        filters.LineReviewedFilter, ("page__note__created", DateFieldListFilter),
    ]
    list_display_links = None
    search_fields = ["text", "page__note__title", "page__note__owner__username"]
    ordering = ["confidence", "-page__note__created", "page__number", "order"]
    actions = ["mark_reviewed", "rerun", "rerun_with_model"]
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    fields = ["image", "reading", "confidence_shown", "note_shown", "owner", "order", "read",
              "corrected", "machine_text", "revision", "reviewed"]
    readonly_fields = fields
    Media = ReviewMedia

    def get_queryset(self, request):
        return review.line_queue(staff=request.user)

    def get_list_display(self, request):
        if self.has_correct_permission(request):
            return ["image", "correction", *self.list_display[2:]]  # it shows the reading
        return self.list_display

    def has_correct_permission(self, request) -> bool:
        return request.user.has_perm(review.PERM_CORRECT)

    def has_review_permission(self, request) -> bool:
        return request.user.has_perm(review.PERM_REVIEW)

    def has_rerun_permission(self, request) -> bool:
        return request.user.has_perm(review.PERM_RERUN)

    # Columns -----------------------------------------------------------------------------------

    @admin.display(description="Image")
    def image(self, line: Line) -> str:
        if not line.polygon:
            return "typed in"
        return format_html('<img class="review-crop" src="{}" alt="Line {} as written" '
                           'loading="lazy">',
                           reverse("admin:recognition_line_crop", args=[line.pk]), line.pk)

    @admin.display(description="Text (unsure words marked)")
    def reading(self, line: Line) -> str:
        if not line.read:
            return format_html('<span class="review-unread">{}</span>', "not read (out of time)")
        return marked_words(line)

    @admin.display(description="Text")
    def correction(self, line: Line) -> str:
        return format_html(
            '<div class="review-reading">{}</div>'
            '<input type="text" class="review-text" name="{}" value="{}" aria-label="Text of '
            'line {}"><input type="hidden" name="{}" value="{}">'
            '<input type="hidden" name="{}" value="{}">',
            self.reading(line), FIELD_TEXT.format(line.pk), line.text, line.pk,
            FIELD_ORIGINAL.format(line.pk), line.text, FIELD_BASE.format(line.pk),
            line.page.note.revision)

    @admin.display(description="Confidence", ordering="confidence")
    def confidence_shown(self, line: Line) -> str:
        return percent(line.confidence)

    @admin.display(description="Note", ordering="page__note__title")
    def note_shown(self, line: Line) -> str:
        note = line.page.note
        where = f"page {line.page.number}, line {line.order + 1}"
        return format_html('<a href="{}">{}</a><br><span class="review-where">{}</span>',
                           reverse("admin:recognition_note_change", args=[note.pk]),
                           note.title, where)

    @admin.display(description="Owner", ordering="page__note__owner__username")
    def owner(self, line: Line) -> str:
        return line.page.note.owner.username

    @admin.display(description="Reviewed")
    def reviewed(self, line: Line) -> str:
        found = getattr(line, "review", None)
        if found is None:
            return "–"
        who = found.reviewer.username if found.reviewer else "(deleted)"
        return f"{found.reviewed:%Y-%m-%d %H:%M} by {who}"

    # Corrections, actions and the line images ---------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and "_correct" in request.POST:
            return self.corrections_save(request)
        context = {**(extra_context or {}), "can_correct": self.has_correct_permission(request)}
        return super().changelist_view(request, context)

    def corrections_save(self, request):
        """The "Save corrections" button: every edited row, through `review.lines_correct`."""
        if not self.has_correct_permission(request):
            raise PermissionDenied
        edits = posted_edits(request.POST)
        if not edits:
            self.message_user(request, UNCHANGED, messages.WARNING)
            return HttpResponseRedirect(request.get_full_path())
        result = review.lines_correct(staff=request.user, edits=edits, view=view_name(request))
        if result.saved:
            self.message_user(request, SAVED.format(count=len(result.saved),
                                                    notes=len(result.revisions)))
        for conflict in result.conflicts:
            self.message_user(request, CONFLICT.format(
                line=conflict.line_id, title=conflict.note_title, base=conflict.base,
                current=conflict.current, current_text=conflict.current_text,
                text=conflict.text), messages.ERROR)
        for error in result.errors:
            self.message_user(request, error, messages.ERROR)
        if not (result.saved or result.conflicts or result.errors):
            self.message_user(request, UNCHANGED, messages.WARNING)
        return HttpResponseRedirect(request.get_full_path())

    @admin.action(description="Mark selected lines reviewed", permissions=["review"])
    def mark_reviewed(self, request, queryset):
        count = review.lines_mark_reviewed(staff=request.user,
                                           line_ids=queryset.values_list("pk", flat=True),
                                           view=view_name(request))
        self.message_user(request, REVIEWED.format(count=count))

    @admin.action(description="Re-run recognition of their notes", permissions=["rerun"])
    def rerun(self, request, queryset):
        note_ids = set(queryset.values_list("page__note", flat=True))
        result = review.notes_recognize(staff=request.user, note_ids=note_ids,
                                        view=view_name(request))
        rerun_messages(self, request, result)

    @admin.action(description="Re-run recognition of their notes with another model version…",
                  permissions=["rerun"])
    def rerun_with_model(self, request, queryset):
        note_ids = set(queryset.values_list("page__note", flat=True))
        return choose_model_and_rerun(self, request, queryset, note_ids, action="rerun_with_model")

    def get_urls(self):
        crop = path("<int:line_id>/crop/", self.admin_site.admin_view(self.crop_view),
                    name="recognition_line_crop")
        return [crop, *super().get_urls()]

    def crop_view(self, request, line_id: int):
        """The line's image, whoever's note it is on: staff with the right to see lines only."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        jpeg = review.line_crop(staff=request.user, line_id=line_id)
        return HttpResponse(jpeg, content_type="image/jpeg",
                            headers={"Cache-Control": "private, max-age=3600"})


def posted_edits(data) -> dict[int, review.LineEdit]:
    """The rows whose text differs from what they were shown with: {line id: edit}."""
    edits = {}
    for key, text in data.items():
        prefix, _, line_id = key.partition("-")
        if prefix != "correct" or not line_id.isdigit():
            continue
        base = data.get(FIELD_BASE.format(line_id), "")
        if text != data.get(FIELD_ORIGINAL.format(line_id)) and base.isdigit():
            edits[int(line_id)] = review.LineEdit(text=text, base_revision=int(base))
    return edits


@admin.register(Page)
class PageAdmin(ReadOnlyAdmin):
    list_display = ["note", "number", "width", "height", "recognized", "partial",
                    "unread_lines"]
    list_select_related = ["note"]
    list_filter = ["recognized", "partial"]
    search_fields = ["note__title"]
    exclude = ["image"]


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    list_display = ["note", "number", "kind", "author", "summary", "created"]
    list_select_related = ["note", "author"]
    list_filter = ["kind", "created"]
    search_fields = ["note__title", "author__username", "summary"]
    fields = ["note", "number", "kind", "author", "summary", "created"]

    def get_queryset(self, request):
        # The line columns can be most of a long note's history; nothing here shows them.
        return super().get_queryset(request).defer("snapshot", "delta")
