"""Personal models for staff: every user's fine-tunes, their outcome and lineage, read-only
(a user chooses their own version; a fine-tune is started by its user)."""

from __future__ import annotations

from django.contrib import admin

from recognition.admin.base import ReadOnlyAdmin
from recognition.models import PersonalModel


@admin.register(PersonalModel)
class PersonalModelAdmin(ReadOnlyAdmin):
    list_display = ["pk", "owner", "status", "active", "outcome", "train_lines",
                    "held_out_lines", "training_seconds", "parent", "created"]
    list_filter = ["status", "active", "created"]
    search_fields = ["owner__username", "message"]
    date_hierarchy = "created"
    list_select_related = ["owner", "parent"]
    fields = ["owner", "status", "active", "reason", "parent", "base_version", "file",
              "corrections", "train_lines", "held_out_lines", "cer_before", "cer_after",
              "training_seconds", "message", "created", "started", "finished"]
    readonly_fields = fields

    @admin.display(description="Held-out CER, before → after")
    def outcome(self, model: PersonalModel) -> str:
        return model.outcome or "–"
