"""What the review panel's admins share."""

from __future__ import annotations

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows staff may look at but never add, change or delete here (their services do)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def view_name(request) -> str:
    """The admin view a request came to, as the audit trail records it."""
    match = request.resolver_match
    return match.view_name if match else request.path


def percent(value: float | None) -> str:
    """A confidence as people read it: "42%", or a dash when there is none."""
    return "–" if value is None else f"{value:.0%}"


class ReviewMedia:
    """The panel's stylesheet (line images, unsure words); a file, as the CSP requires."""

    css = {"all": ["css/review.css"]}
