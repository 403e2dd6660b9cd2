"""Pages for editing a note's text: line saves from the note page, whole-page editing,
the revision history with diffs, and reverts. Each view checks input and calls one service
from `revisions`; conflicts come back with the current text so the person can merge.

The line save answers JSON, and its errors have the API's shape (`api.errors.error_body`):
{"error": {"code", "message", "fields"}}; a 409 conflict adds, inside "error", the note's
`current_revision` and `current_lines` ({line id: its current text}), as the API's does.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from recognition import revisions, selectors
from recognition.api.errors import error_body
from recognition.exceptions import RecognitionAppError
from recognition.models import Line
from recognition.revisions import LineTooLong, RevisionConflict

ERROR_BAD_REQUEST = "Send JSON: {\"text\": \"...\", \"revision\": <the note revision you saw>}."
ERROR_BAD_REVISION = "The form is missing the revision it was based on; reload the page."
ERROR_NOT_FOUND = "Not found."


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_POST
def line_update(request: HttpRequest, pk: int, line_id: int) -> JsonResponse:
    """Save one line (the note page's inline editor); 409 with the current text if stale."""
    try:
        note = selectors.note_get(user=request.user, pk=pk)
        line = get_object_or_404(Line, pk=line_id, page__note=note)
    except Http404:
        return JsonResponse(error_body("not_found", ERROR_NOT_FOUND), status=404)
    try:
        body = json.loads(request.body)
        text, base = body["text"], _int(body["revision"])
    except (ValueError, KeyError, TypeError):
        text, base = None, None
    if not isinstance(text, str) or base is None:
        return JsonResponse(error_body("invalid", ERROR_BAD_REQUEST), status=400)
    try:
        revision = revisions.lines_update(user=request.user, note=note,
                                          edits={line.pk: text}, base_revision=base)
    except RevisionConflict as err:
        return JsonResponse(error_body(
            "conflict", str(err), current_revision=err.current,
            current_lines={str(k): v for k, v in err.lines.items()}), status=409)
    except LineTooLong as err:
        return JsonResponse(error_body("invalid", str(err), {err.field: [str(err)]}),
                            status=400)
    except RecognitionAppError as err:
        return JsonResponse(error_body("invalid", str(err)), status=400)
    line.refresh_from_db()
    note.refresh_from_db()
    return JsonResponse({
        "revision": note.revision, "saved": revision is not None,
        "line": {"id": line.pk, "text": line.text, "corrected": line.corrected},
    })


@login_required
@require_http_methods(["GET", "POST"])
def note_text(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit the whole text, one box per page; on a conflict, both versions side by side."""
    note = selectors.note_get(user=request.user, pk=pk)
    pages = list(selectors.note_pages(note=note))
    current = {page.number: "\n".join(line.text for line in page.lines.all()) for page in pages}
    drafts, conflict, status = dict(current), None, 200
    base = note.revision
    if request.method == "POST":
        drafts = {page.number: request.POST.get(f"page-{page.number}", current[page.number])
                  for page in pages}
        base = _int(request.POST.get("revision"))
        try:
            if base is None:
                raise RecognitionAppError(ERROR_BAD_REVISION)
            revision = revisions.pages_text_replace(
                user=request.user, note=note, base_revision=base,
                pages={n: text for n, text in drafts.items() if text != current[n]})
        except RevisionConflict as err:
            conflict, status, base = err, 409, err.current
        except RecognitionAppError as err:
            messages.error(request, str(err))
            status = 400
        else:
            messages.success(request, f"Saved as revision {revision.number}." if revision
                             else "Nothing changed.")
            return redirect("recognition:note", pk=note.pk)
    return render(request, "recognition/note_text.html", {
        "note": note, "base": base, "conflict": conflict,
        "partial": any(p.partial for p in pages),
        "pages": [{"number": p.number, "draft": drafts[p.number], "current": current[p.number],
                   "differs": drafts[p.number] != current[p.number],
                   "rows": max(4, drafts[p.number].count("\n") + 2)} for p in pages],
    }, status=status)


@login_required
@require_GET
def note_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Who changed the note's text and when (metadata only: no revision's lines are read)."""
    note = selectors.note_get(user=request.user, pk=pk)
    return render(request, "recognition/note_history.html", {
        "note": note, "revisions": selectors.revision_list(note=note)})


@login_required
@require_GET
def revision_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """What revision `number` changed (against the one before, or ?against=N)."""
    note = selectors.note_get(user=request.user, pk=pk)
    revision = selectors.revision_get(note=note, number=number)
    against_number = _int(request.GET.get("against"))
    if against_number is None:
        against_number = number - 1
    against = selectors.revision_list(note=note).filter(number=against_number).first()
    selectors.revision_lines_attach(revisions=[revision, *([against] if against else [])])
    rows = selectors.revision_diff(against.lines if against else [], revision.lines)
    return render(request, "recognition/revision_detail.html", {
        "note": note, "revision": revision, "against": against, "rows": rows,
        "changes": sum(row.kind != "same" for row in rows),
        "revisions": selectors.revision_list(note=note),
    })


@login_required
@require_POST
def revision_revert(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    note = selectors.note_get(user=request.user, pk=pk)
    base = _int(request.POST.get("revision"))
    try:
        if base is None:
            raise RecognitionAppError(ERROR_BAD_REVISION)
        revision = revisions.revision_revert(user=request.user, note=note, number=number,
                                             base_revision=base)
    except RecognitionAppError as err:  # a conflict included: the history shows what changed
        messages.error(request, str(err) if not isinstance(err, RevisionConflict) else
                       f"The note changed (revision {err.current}) since you looked; "
                       "check the history and revert again.")
        return redirect("recognition:note-history", pk=note.pk)
    messages.success(request, f"Reverted to revision {number} (saved as {revision.number}).")
    return redirect("recognition:note", pk=note.pk)
