"""Live status of many notes at once: what live-status.js polls on every page (issue 14).

    GET /notes/status/?ids=3,5,8  ->  {"notes": [{"id": 3, "status": "done", ...}, ...]}

One request for all the notes a page shows as queued or processing (Home's cards, a
collection, the note page), instead of one per note. Only the user's own notes answer: the
id of another user's note, or of a note deleted meanwhile, is simply absent from the answer
(we don't confirm it exists). Errors come in the API's shape (`api.errors.error_body`).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from recognition.api.errors import error_body
from recognition.models import Note, Page

# Ids one request may ask for: a page shows at most a few hundred notes, and only the active
# ones are polled (Home shows 200; live-status.js asks in batches of this size).
MAX_IDS = 100
ERROR_IDS = "ids must be note ids separated by commas, such as ids=3,5,8."
ERROR_TOO_MANY = f"At most {MAX_IDS} notes can be asked for at once."


def note_status_list(*, user, ids: list[int]) -> QuerySet[Note]:
    """The user's notes among `ids` (others' and missing ones left out), with `has_page`:
    whether the worker has stored a first page image yet."""
    return (Note.objects.filter(owner=user, pk__in=ids)
            .annotate(has_page=Exists(Page.objects.filter(note=OuterRef("pk"), number=1)))
            .only("pk", "title", "status", "pages_done", "pages_total", "error", "thumbnail")
            .order_by("pk"))


def parse_ids(raw: str) -> list[int]:
    """"3,5,8" -> [3, 5, 8] (duplicates dropped, order kept).

    Raises:
        ValueError: with ERROR_IDS or ERROR_TOO_MANY as its message.
    """
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts or not all(part.isascii() and part.isdigit() and len(part) <= 18
                            for part in parts):
        raise ValueError(ERROR_IDS)
    ids = list(dict.fromkeys(int(part) for part in parts))
    if len(ids) > MAX_IDS:
        raise ValueError(ERROR_TOO_MANY)
    return ids


def note_state(note: Note) -> dict:
    """What a page needs to show of a note's recognition (as note_status, plus where to go)."""
    if note.has_page:
        preview = reverse("recognition:page-image", args=[note.pk, 1])
    else:
        preview = reverse("recognition:note-thumbnail", args=[note.pk]) if note.thumbnail else None
    return {
        "id": note.pk,
        "title": note.title,
        "status": note.status,
        "status_label": note.get_status_display(),
        "pages_done": note.pages_done,
        "pages_total": note.pages_total,
        "progress": note.progress_percent,
        "failure": note.error,
        "url": reverse("recognition:note", args=[note.pk]),
        "preview": preview,
    }


@login_required
@require_GET
def notes_status(request: HttpRequest) -> JsonResponse:
    """The recognition status of the user's notes named in `?ids=`."""
    try:
        ids = parse_ids(request.GET.get("ids", ""))
    except ValueError as err:
        return JsonResponse(error_body("invalid", str(err), {"ids": [str(err)]}), status=400)
    notes = note_status_list(user=request.user, ids=ids)
    response = JsonResponse({"notes": [note_state(note) for note in notes]})
    response["Cache-Control"] = "no-store"  # a poll must never be answered from a cache
    return response
