"""The library's pages: the note list of Home and of a collection (`library_context`, used by
`recognition.views`), the bulk actions on selected notes, and saved searches.

Everything works as plain GET and POST forms; static/js/library.js only adds "select all on
this page" and shows the bulk bar's fields that the chosen action needs.
"""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from recognition import selectors as recognition_selectors
from recognition.api.errors import error_body
from recognition.exports import archive
from recognition.exports.document import note_document
from recognition.exports.registry import format_get
from recognition.exports.views import NOTHING_TO_EXPORT, SPOOL_BYTES
from recognition.library import selectors, services
from recognition.library.forms import (
    SORTS,
    BulkActionForm,
    LibraryFilterForm,
    SavedSearchForm,
    library_query,
)
from recognition.library.selectors import LibraryFilters
from recognition.models import Collection

MOVED = "{notes} moved to “{collection}”."
TAGGED = "Tag “{tag}” added to {notes}."
UNTAGGED = "Tag “{tag}” removed from {notes}."
RECOGNIZING = "Recognition queued for {notes}."
SKIPPED_BUSY = "{notes} skipped: already being recognized."
DELETED = "{notes} deleted."
MISSING = "{notes} of the selection not found (deleted, or not yours): left alone."
SEARCH_SAVED = "Search “{name}” saved."
SEARCH_DELETED = "Saved search “{name}” deleted."
ERROR_FILTERS = "Some filters are not valid; the list shows the notes without them."
ERROR_SEARCH_ID = "No such saved search."


def notes_count(count: int) -> str:
    """ "1 note", "3 notes"."""
    return f"{count} note{'' if count == 1 else 's'}"


def library_context(request: HttpRequest, *, collection: Collection | None = None) -> dict:
    """What the library part of Home or a collection page shows, from the query string.
    `filter_form.errors` says whether a filter was refused (the page then answers 400)."""
    user = request.user
    form = LibraryFilterForm(request.GET, user=user, auto_id="filter_%s")
    form.is_valid()
    filters = LibraryFilters(**{**form.filters(),
                                **({"collection": collection} if collection else {})})
    page = selectors.library_page(user=user, filters=filters, number=request.GET.get("page"))
    query = library_query(request.GET)
    return {
        "filter_form": form,
        "filters": filters,
        "page": page,
        "notes": page.object_list,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2,
                                                           on_ends=1),
        "query": query,
        "saved_query": (f"{query}&collection={collection.pk}".lstrip("&") if collection
                        else query),
        "sorts": SORTS,
        "bulk_form": BulkActionForm(user=user, auto_id="bulk_%s"),
        "search_form": SavedSearchForm(),
        "saved_searches": selectors.saved_search_list(user=user),
        "tags": recognition_selectors.tag_list(user=user),
        "filter_errors": [e for errors in form.errors.values() for e in errors],
        "filter_message": ERROR_FILTERS,
    }


def _safe_next(request: HttpRequest, target: str | None) -> str:
    """The library page the form came from, if it is one of this site; else Home."""
    if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("recognition:home")


def _back(request: HttpRequest, target: str | None) -> HttpResponse:
    return redirect(_safe_next(request, target))


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def library_bulk(request: HttpRequest) -> HttpResponse:
    """One action on the selected notes; deleting asks first (a page with a confirm button)."""
    form = BulkActionForm(request.POST, user=request.user)
    if not form.is_valid():
        texts = [e for errors in form.errors.values() for e in errors]
        if _wants_json(request):
            fields = {k: [str(e) for e in v] for k, v in form.errors.items()}
            return JsonResponse(error_body("invalid", texts[0], fields), status=400)
        for text in texts:
            messages.error(request, text)
        return _back(request, request.POST.get("next"))
    data = form.cleaned_data
    if data["action"] == "export":
        return _export(request, data)
    if data["action"] == "delete" and not data["confirm"]:
        notes = selectors.notes_selected(user=request.user, ids=data["notes"])
        return render(request, "recognition/_library_confirm_delete.html",
                      {"notes": notes, "ids": data["notes"],
                       "next": _safe_next(request, data["next"])})
    try:
        result, text = _act(request.user, data)
    except ValidationError as err:
        messages.error(request, " ".join(err.messages))
        return _back(request, data["next"])
    if _wants_json(request):
        return JsonResponse({"done": result.done, "skipped": result.skipped,
                             "missing": result.missing})
    _report(request, result, text)
    return _back(request, data["next"])


def _act(user, data: dict) -> tuple[services.BulkResult, str]:
    ids, action = data["notes"], data["action"]
    if action == "move":
        result = services.notes_move(user=user, note_ids=ids, collection=data["collection"])
        return result, MOVED.format(notes=notes_count(result.done),
                                    collection=data["collection"].name)
    if action == "tag_add":
        result = services.notes_tag_add(user=user, note_ids=ids, name=data["tag"])
        return result, TAGGED.format(tag=data["tag"].strip(), notes=notes_count(result.done))
    if action == "tag_remove":
        result = services.notes_tag_remove(user=user, note_ids=ids, name=data["tag"])
        return result, UNTAGGED.format(tag=data["tag"].strip(), notes=notes_count(result.done))
    if action == "recognize":
        result = services.notes_recognize(user=user, note_ids=ids)
        return result, RECOGNIZING.format(notes=notes_count(result.done))
    result = services.notes_delete(user=user, note_ids=ids)
    return result, DELETED.format(notes=notes_count(result.done))


def _report(request: HttpRequest, result: services.BulkResult, text: str) -> None:
    messages.success(request, text)
    if result.skipped:
        messages.warning(request, SKIPPED_BUSY.format(notes=notes_count(result.skipped)))
    if result.missing:
        messages.warning(request, MISSING.format(notes=notes_count(result.missing)))


def _export(request: HttpRequest, data: dict) -> HttpResponse:
    """The selected notes in one zip, as a collection's export (`archive.collection_export`)."""
    fmt = format_get(data["format"])
    notes = selectors.notes_selected(user=request.user, ids=data["notes"]).order_by("pk")
    documents = (note_document(note, images=fmt.needs_images) for note in notes)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the response closes it
    if not archive.collection_export(fmt, (d for d in documents if d.pages), out):
        out.close()
        messages.error(request, NOTHING_TO_EXPORT)
        return _back(request, data["next"])
    out.seek(0)
    response = FileResponse(out, as_attachment=True, filename=f"notes-{fmt.name}.zip",
                            content_type=archive.ZIP_TYPE)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def saved_search_save(request: HttpRequest) -> HttpResponse:
    form = SavedSearchForm(request.POST)
    query = request.POST.get("query", "")
    if form.is_valid():
        try:
            search = services.saved_search_create(user=request.user, **form.cleaned_data)
        except ValidationError as err:
            messages.error(request, " ".join(err.messages))
        else:
            messages.success(request, SEARCH_SAVED.format(name=search.name))
            query = search.query
    else:
        for errors in form.errors.values():
            for text in errors:
                messages.error(request, text)
    return redirect(reverse("recognition:home") + (f"?{query}" if query else ""))


@login_required
@require_POST
def saved_search_delete(request: HttpRequest) -> HttpResponse:
    try:
        pk = int(request.POST.get("search", ""))
    except ValueError:
        messages.error(request, ERROR_SEARCH_ID)
        return redirect("recognition:home")
    search = selectors.saved_search_get(user=request.user, pk=pk)
    services.saved_search_delete(user=request.user, saved_search=search)
    messages.success(request, SEARCH_DELETED.format(name=search.name))
    return redirect("recognition:home")

