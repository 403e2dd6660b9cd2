"""HTML pages of notes and collections. Each view: check input, call one service or
selector, render. Files are served through here, after the owner check, never from a
public folder.

The JSON answers (an upload sent by upload.js, the status note.js polls) report errors in the
API's shape, {"error": {"code", "message", "fields"}} (`api.errors.error_body`).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from recognition import selectors, services
from recognition.api.errors import UPLOAD_STATUS, error_body, form_error_body
from recognition.exceptions import NoteBusyError, UploadError
from recognition.exports.registry import FORMATS
from recognition.files import file_response
from recognition.forms import CollectionForm, NoteEditForm, UploadForm
from recognition.landing import landing_page
from recognition.library.views import library_context, notes_count

ERROR_NOT_FOUND = "Not found."
UPLOADED = "{notes} uploaded; recognition started."


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The user's notes as a library: filters, sort, pages, bulk actions (recognition.library);
    for a visitor who is not logged in, the landing page."""
    if not request.user.is_authenticated:
        return landing_page(request)
    context = library_context(request)
    return render(request, "recognition/home.html",
                  {**context, "form": UploadForm(user=request.user)},
                  status=400 if context["filter_errors"] else 200)


@login_required
@require_http_methods(["GET", "POST"])
def note_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    code, message = "invalid", None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            notes = services.note_upload(
                user=request.user, files=data["files"], collection=data["collection"],
                title=data["title"], tags=data["tags"], note_date=data["note_date"])
        except UploadError as err:
            form.add_error("files", err.problems)
            code, message = err.code, str(err)  # as the API says it
        else:
            target = (reverse("recognition:note", args=[notes[0].pk]) if len(notes) == 1
                      else reverse("recognition:collection", args=[notes[0].collection_id]))
            # Also for upload.js (JSON): the page it goes to next shows the message.
            messages.success(request, UPLOADED.format(notes=notes_count(len(notes))))
            if _wants_json(request):
                return JsonResponse({"notes": [n.pk for n in notes], "redirect": target},
                                    status=201)
            return redirect(target)
    status = UPLOAD_STATUS.get(code, 400) if request.method == "POST" else 200
    if status != 200 and _wants_json(request):
        return JsonResponse(form_error_body(form, code, message), status=status)
    return render(request, "recognition/upload.html", {"form": form}, status=status)


@login_required
@require_GET
def note_detail(request: HttpRequest, pk: int) -> HttpResponse:
    note = selectors.note_get(user=request.user, pk=pk)
    return render(request, "recognition/note_detail.html", {
        "note": note, "pages": selectors.note_pages(note=note)})


@login_required
@require_GET
def note_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Recognition progress. Why it failed is `failure` (a state of the note, not an error of
    this request: "error" only ever means the request failed, in the shape above)."""
    try:
        note = selectors.note_get(user=request.user, pk=pk)
    except Http404:
        return JsonResponse(error_body("not_found", ERROR_NOT_FOUND), status=404)
    return JsonResponse({
        "status": note.status,
        "pages_done": note.pages_done,
        "pages_total": note.pages_total,
        "progress": note.progress_percent,
        "failure": note.error,
    })


@login_required
@require_http_methods(["GET", "POST"])
def note_edit(request: HttpRequest, pk: int) -> HttpResponse:
    note = selectors.note_get(user=request.user, pk=pk)
    initial = {"title": note.title, "collection": note.collection,
               "tags": ", ".join(t.name for t in note.tags.all()), "note_date": note.note_date}
    form = NoteEditForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.note_update(user=request.user, note=note, **form.cleaned_data)
        except ValidationError as err:
            form.add_error(None, err)
        else:
            messages.success(request, "Note saved.")
            return redirect("recognition:note", pk=note.pk)
    return render(request, "recognition/note_edit.html", {"note": note, "form": form},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def note_delete(request: HttpRequest, pk: int) -> HttpResponse:
    note = selectors.note_get(user=request.user, pk=pk)
    if request.method == "POST":
        collection_pk = note.collection_id
        services.note_delete(user=request.user, note=note)
        messages.success(request, f"“{note.title}” deleted.")
        return redirect("recognition:collection", pk=collection_pk)
    return render(request, "recognition/confirm_delete.html", {"object": note, "kind": "note"})


@login_required
@require_POST
def note_recognize(request: HttpRequest, pk: int) -> HttpResponse:
    note = selectors.note_get(user=request.user, pk=pk)
    try:
        services.note_recognize(user=request.user, note=note)
    except NoteBusyError as err:
        messages.error(request, str(err))
    else:
        messages.success(request, "Recognition queued.")
    return redirect("recognition:note", pk=note.pk)


@login_required
@require_http_methods(["GET", "POST"])
def collection_list(request: HttpRequest) -> HttpResponse:
    form = CollectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            collection = services.collection_create(user=request.user, **form.cleaned_data)
        except ValidationError as err:
            form.add_error("name", err.messages)
        else:
            return redirect("recognition:collection", pk=collection.pk)
    return render(request, "recognition/collection_list.html", {
        "collections": selectors.collection_list(user=request.user), "form": form},
        status=400 if form.errors else 200)


@login_required
@require_GET
def collection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    collection = selectors.collection_get(user=request.user, pk=pk)
    context = library_context(request, collection=collection)
    return render(request, "recognition/collection_detail.html", {
        **context,
        "collection": collection,
        "form": CollectionForm(initial={"name": collection.name}),
        "upload_form": UploadForm(user=request.user, initial={"collection": collection}),
        "export_formats": [(f.name, f.label) for f in FORMATS.values()],
    }, status=400 if context["filter_errors"] else 200)


@login_required
@require_POST
def collection_rename(request: HttpRequest, pk: int) -> HttpResponse:
    collection = selectors.collection_get(user=request.user, pk=pk)
    form = CollectionForm(request.POST)
    if form.is_valid():
        try:
            services.collection_rename(user=request.user, collection=collection,
                                       **form.cleaned_data)
        except ValidationError as err:
            messages.error(request, " ".join(err.messages))
    else:
        messages.error(request, "A collection needs a name.")
    return redirect("recognition:collection", pk=collection.pk)


@login_required
@require_http_methods(["GET", "POST"])
def collection_delete(request: HttpRequest, pk: int) -> HttpResponse:
    collection = selectors.collection_get(user=request.user, pk=pk)
    if request.method == "POST":
        services.collection_delete(user=request.user, collection=collection)
        messages.success(request, f"Collection “{collection.name}” and its notes deleted.")
        return redirect("recognition:collections")
    return render(request, "recognition/confirm_delete.html",
                  {"object": collection, "kind": "collection"})


# Files: only ever served to their owner ------------------------------------------------------

@login_required
@require_GET
def note_thumbnail(request: HttpRequest, pk: int) -> FileResponse:
    return file_response(selectors.note_get(user=request.user, pk=pk).thumbnail.name)


@login_required
@require_GET
def note_original(request: HttpRequest, pk: int) -> FileResponse:
    note = selectors.note_get(user=request.user, pk=pk)
    return file_response(note.original.name, download_name=note.original_name)


@login_required
@require_GET
def page_image(request: HttpRequest, pk: int, number: int) -> FileResponse:
    page = selectors.page_get(user=request.user, note_pk=pk, number=number)
    return file_response(page.image.name)
