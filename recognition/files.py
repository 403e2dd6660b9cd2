"""Serving stored files (originals, pages, thumbnails) to their owner, from any storage.

Callers check ownership first (they fetch the object through a user-scoped selector); this
only streams the bytes, privately cacheable, with a download name where one is given.
"""

from __future__ import annotations

import mimetypes

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404


def file_response(name: str, *, download_name: str | None = None) -> FileResponse:
    if not name or not default_storage.exists(name):
        raise Http404
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type,
                            as_attachment=download_name is not None,
                            filename=download_name or "")
    response["Cache-Control"] = "private, max-age=3600"
    return response
