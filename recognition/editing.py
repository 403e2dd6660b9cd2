"""Pages for editing a note's text: line saves from the note page, whole-page editing,
the revision history with diffs, and reverts. Each view checks input and calls one service
from `revisions`; conflicts come back with the current text so the person can merge.

The line save answers JSON, and its errors have the API's shape (`api.errors.error_body`):
{"error": {"code", "message", "fields"}}; a 409 conflict adds, inside "error", the note's
`current_revision` and `current_lines` ({line id: its current text}), as the API's does.

Structural corrections (the note page's line tools; services in `revisions`). All are POST,
logged in, with the CSRF token as the line save (X-CSRFToken header), a JSON body holding
`revision` (the note revision the page shows) and:

    recognition:line-delete  notes/<pk>/lines/<line_id>/delete/  {"revision"}
    recognition:line-insert  notes/<pk>/pages/<number>/lines/    {"revision", "after": line id
                             or null (first on the page), "text", "polygon": [[x, y], ...]
                             (optional; [] or absent: a line without a region)}
    recognition:line-split   notes/<pk>/lines/<line_id>/split/   {"revision", "at": index}:
                             the text before character `at` stays in this line, the rest
                             becomes a new line right after it (0 < at < len(text), with
                             text left on both sides)
    recognition:line-merge   notes/<pk>/lines/<line_id>/merge/   {"revision", "with": line id}:
                             the line just before or after it on the page; the earlier of the
                             two keeps its id and both texts, joined with a space
    recognition:line-move    notes/<pk>/lines/<line_id>/move/    {"revision", "to": index}:
                             its new place on the page, 0-based, among the page's lines
    recognition:line-region  notes/<pk>/lines/<line_id>/region/  {"revision", "polygon":
                             [[x, y], ...]}: 3 to 2,000 points in page image pixels, within
                             the image (points a little outside are clamped)

200: {"revision": N (the note's revision now), "page": its number, "lines": [{"id", "order",
"text", "polygon", "baseline", "corrected", "confidence", "read", "words"}, ...]}: every line
of the page, in reading order (`order` 0, 1, ...); a move to the same place or a region equal
to the old one changes nothing and answers the same way. An insert puts the new line right
after `after`, a split the new half right after the line split.
Errors: 400 {"error": {"code": "invalid", "message", "fields"}} for a body that is not as
above (`fields` then names the input at fault: "at", "with", "to", "text", "polygon" or
"after"), for lines that cannot be merged, and while the note is being recognized; 404
{"error": {"code": "not_found", ...}} for a line or page that is not the user's (or is gone);
409 {"error": {"code": "conflict", "message", "fields": {}, "current_revision", "current_lines":
{line id: text} of the page}} when the page's lines changed since `revision` (others added,
removed or moved, or the line itself edited): reload the page and try again.
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
from recognition.models import Line, Page
from recognition.revisions import LineTooLong, RevisionConflict

ERROR_BAD_REQUEST = "Send JSON: {\"text\": \"...\", \"revision\": <the note revision you saw>}."
ERROR_BAD_REVISION = "The form is missing the revision it was based on; reload the page."
ERROR_NOT_FOUND = "Not found."
ERROR_BAD_STRUCTURE = "Send JSON: {{\"revision\": <the note revision you saw>{more}}}."
STRUCTURE_BODIES = {  # what each structural edit needs besides the revision
    "delete": "", "split": ', "at": <character index>', "merge": ', "with": <line id>',
    "move": ', "to": <place on the page, from 0>', "region": ', "polygon": [[x, y], ...]',
    "insert": ', "after": <line id or null>, "text": "...", "polygon": [[x, y], ...]',
}
ERROR_NO_SUCH_LINE = "This note has no line {line_id}."
ERROR_AFTER_UNKNOWN = revisions.ERROR_AFTER


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


# Structural corrections ------------------------------------------------------------------------

_NONE = type(None)


def _not_found() -> JsonResponse:
    return JsonResponse(error_body("not_found", ERROR_NOT_FOUND), status=404)


def _invalid(err: RecognitionAppError) -> JsonResponse:
    field = getattr(err, "field", None)
    return JsonResponse(error_body("invalid", str(err), {field: [str(err)]} if field else None),
                        status=400)


def _body(request: HttpRequest, kind: str, **fields) -> dict | None:
    """The JSON body, with `revision` as an int and each of `fields` (name: type or types;
    a missing field is None) of its type; None when it is not like that."""
    try:
        body = json.loads(request.body)
    except ValueError:
        return None
    if not isinstance(body, dict) or _int(body.get("revision")) is None:
        return None
    for name, kinds in fields.items():
        if isinstance(body.get(name), bool) or not isinstance(body.get(name), kinds):
            return None
    return {**body, "revision": _int(body["revision"])}


def _bad_body(kind: str) -> JsonResponse:
    return JsonResponse(error_body("invalid", ERROR_BAD_STRUCTURE.format(
        more=STRUCTURE_BODIES[kind])), status=400)


def _line_of(request: HttpRequest, pk: int, line_id: int) -> Line | None:
    """The user's line of note `pk` (None: not theirs, or not there)."""
    return Line.objects.select_related("page__note").filter(
        pk=line_id, page__note__pk=pk, page__note__owner=request.user).first()


def _page_answer(request: HttpRequest, shown: Page, service, **kwargs) -> JsonResponse:
    """Run a structural service; answer the `shown` page's lines as they are now, or the
    error."""
    try:
        service(user=request.user, note=shown.note, **kwargs)
    except RevisionConflict as err:
        return JsonResponse(error_body(
            "conflict", str(err), current_revision=err.current,
            current_lines={str(k): v for k, v in err.lines.items()}), status=409)
    except RecognitionAppError as err:
        return _invalid(err)
    shown.note.refresh_from_db(fields=["revision"])
    return JsonResponse({"revision": shown.note.revision, "page": shown.number, "lines": [
        {"id": line.pk, "order": line.order, "text": line.text, "polygon": line.polygon,
         "baseline": line.baseline, "corrected": line.corrected,
         "confidence": line.confidence, "read": line.read, "words": line.words}
        for line in shown.lines.order_by("order", "pk")]})


def _line_edit(request: HttpRequest, pk: int, line_id: int, kind: str, service,
               fields: dict, arguments) -> JsonResponse:
    """A structural edit of one line: `arguments(body)` are the service's own arguments."""
    line = _line_of(request, pk, line_id)
    if line is None:
        return _not_found()
    body = _body(request, kind, **fields)
    if body is None:
        return _bad_body(kind)
    try:
        extra = arguments(line, body)
    except RecognitionAppError as err:
        return _invalid(err)
    return _page_answer(request, line.page, service, line=line,
                        base_revision=body["revision"], **extra)


@login_required
@require_POST
def line_delete(request: HttpRequest, pk: int, line_id: int) -> JsonResponse:
    """Delete a line: {"revision"}."""
    return _line_edit(request, pk, line_id, "delete", revisions.line_delete, {},
                      lambda line, body: {})


@login_required
@require_POST
def line_split(request: HttpRequest, pk: int, line_id: int) -> JsonResponse:
    """Split a line in two before character `at`: {"revision", "at"}."""
    return _line_edit(request, pk, line_id, "split", revisions.line_split, {"at": int},
                      lambda line, body: {"at": body["at"]})


@login_required
@require_POST
def line_merge(request: HttpRequest, pk: int, line_id: int) -> JsonResponse:
    """Merge a line with the one before or after it: {"revision", "with"}."""
    return _line_edit(request, pk, line_id, "merge", revisions.line_merge, {"with": int},
                      lambda line, body: {"with_line": _other_line(line, body["with"])})


@login_required
@require_POST
def line_move(request: HttpRequest, pk: int, line_id: int) -> JsonResponse:
    """Move a line to another place of its page: {"revision", "to"}."""
    return _line_edit(request, pk, line_id, "move", revisions.line_move, {"to": int},
                      lambda line, body: {"to_index": body["to"]})


@login_required
@require_POST
def line_region(request: HttpRequest, pk: int, line_id: int) -> JsonResponse:
    """Give a line the region drawn for it: {"revision", "polygon"}."""
    return _line_edit(request, pk, line_id, "region", revisions.line_region_set,
                      {"polygon": list}, lambda line, body: {"polygon": body["polygon"]})


def _other_line(line: Line, line_id: int) -> Line:
    """Another line of the same note (only the note's lines are looked up)."""
    other = Line.objects.select_related("page").filter(pk=line_id,
                                                       page__note=line.page.note).first()
    if other is None:
        raise revisions.EditInvalid(ERROR_NO_SUCH_LINE.format(line_id=line_id), "with")
    return other


@login_required
@require_POST
def line_insert(request: HttpRequest, pk: int, number: int) -> JsonResponse:
    """Add a line typed in: {"revision", "after", "text", "polygon"}."""
    page = Page.objects.select_related("note").filter(
        note__pk=pk, note__owner=request.user, number=number).first()
    if page is None:
        return _not_found()
    body = _body(request, "insert", text=str, after=(int, _NONE), polygon=(list, _NONE))
    if body is None:
        return _bad_body("insert")
    after = None
    if body.get("after") is not None:
        after = page.lines.filter(pk=body["after"]).first()
        if after is None:
            return _invalid(revisions.EditInvalid(ERROR_AFTER_UNKNOWN.format(
                line_id=body["after"], page=page.number), "after"))
    return _page_answer(request, page, revisions.line_insert, page=page, after=after,
                        text=body["text"], polygon=body.get("polygon") or [],
                        base_revision=body["revision"])
