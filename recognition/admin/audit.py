"""The audit trail of the review panel: superusers only, read-only."""

from __future__ import annotations

from django.contrib import admin

from recognition.admin.base import ReadOnlyAdmin
from recognition.models import StaffAction


@admin.register(StaffAction)
class StaffActionAdmin(ReadOnlyAdmin):
    list_display = ["created", "actor_name", "action", "target", "count", "view"]
    list_filter = ["action", "target", "created"]
    search_fields = ["actor_name", "view"]
    date_hierarchy = "created"
    fields = ["created", "actor", "actor_name", "action", "view", "target", "object_ids",
              "detail"]
    readonly_fields = fields

    # Not a permission that can be given: what staff did is for superusers to see.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    @admin.display(description="Objects")
    def count(self, entry: StaffAction) -> int:
        return len(entry.object_ids)
