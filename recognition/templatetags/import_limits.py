"""The import page's limits, read from the settings so that the page says what the service
enforces (`recognition.imports`), whatever the deployment configured."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def import_limits() -> dict:
    """The XML file's size (MB), line count and line length an import may have."""
    return {"megabytes": f"{settings.NOTES_IMPORT_MAX_BYTES / 2**20:g}",
            "lines": f"{settings.NOTES_IMPORT_MAX_LINES:,}",
            "chars": f"{settings.NOTES_MAX_LINE_CHARS:,}"}
