"""Recognition jobs (failed and stuck ones with their errors, and a retry) and the model
versions they ran with."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from recognition import review
from recognition.admin import filters
from recognition.admin.base import ReadOnlyAdmin, ReviewMedia, view_name
from recognition.admin.rerun import rerun_messages
from recognition.models import RecognitionJob


@admin.register(RecognitionJob)
class RecognitionJobAdmin(ReadOnlyAdmin):
    list_display = ["pk", "note_shown", "owner", "status", "stalled_shown", "attempts",
                    "requested_shown", "model_version", "error_shown", "created", "started",
                    "heartbeat", "finished"]
    list_filter = ["status", filters.JobStuckFilter, "model_version", "created"]
    search_fields = ["note__title", "note__owner__username", "error"]
    actions = ["retry"]
    show_facets = admin.ShowFacets.NEVER
    fields = ["note", "status", "stalled_shown", "attempts", "requested_shown", "model_version",
              "error", "created", "started", "heartbeat", "finished"]
    readonly_fields = fields
    Media = ReviewMedia

    def get_queryset(self, request):
        return review.job_queue(staff=request.user)

    def has_rerun_permission(self, request) -> bool:
        return request.user.has_perm(review.PERM_RERUN)

    @admin.display(description="Note", ordering="note__title")
    def note_shown(self, job: RecognitionJob) -> str:
        return format_html('<a href="{}">{}</a>',
                           reverse("admin:recognition_note_change", args=[job.note_id]),
                           job.note.title)

    @admin.display(description="Owner", ordering="note__owner__username")
    def owner(self, job: RecognitionJob) -> str:
        return job.note.owner.username

    @admin.display(description="Stalled", boolean=True, ordering="stalled")
    def stalled_shown(self, job: RecognitionJob) -> bool:
        # Running without a heartbeat for NOTES_JOB_STALL_SECONDS: its worker died.
        return job.stalled

    @admin.display(description="Model asked for", ordering="model_request")
    def requested_shown(self, job: RecognitionJob) -> str:
        # Staff may ask for a model ("re-run with another model version"); owners never do.
        if job.model_request == RecognitionJob.ModelRequest.PERSONAL:
            return f"personal model {job.requested_model_id or '(deleted)'}"
        return job.get_model_request_display()

    @admin.display(description="Error")
    def error_shown(self, job: RecognitionJob) -> str:
        return Truncator(job.error).chars(120)

    @admin.action(description="Retry (recognize their notes again)", permissions=["rerun"])
    def retry(self, request, queryset):
        result = review.jobs_retry(staff=request.user,
                                   job_ids=queryset.values_list("pk", flat=True),
                                   view=view_name(request))
        rerun_messages(self, request, result)

    def get_urls(self):
        versions = path("models/", self.admin_site.admin_view(self.model_versions_view),
                        name="recognition_recognitionjob_models")
        return [versions, *super().get_urls()]

    def model_versions_view(self, request):
        """The model versions jobs ran with: their jobs and the confidence of their lines."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Model versions",
            "versions": review.model_versions(staff=request.user),
            "configured": settings.NOTES_MODEL_PATH.name,
        }
        return TemplateResponse(request, "admin/recognition/recognitionjob/model_versions.html",
                                context)
