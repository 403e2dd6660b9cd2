"""Downloads of notes and collections in the export formats, and the XML import page.

Each view loads its object through a selector scoped to the user, so another user's note or
collection is a 404, as everywhere else. (The import lives here with the exports: both are the
exchange formats; its service is `recognition.imports`.)
"""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from recognition import imports, selectors
from recognition.exceptions import UploadError
from recognition.exports import archive
from recognition.exports.document import note_document
from recognition.exports.forms import ImportForm
from recognition.exports.registry import format_get
from recognition.uploads import safe_name

NOTHING_TO_EXPORT = "There is nothing to export yet: no page has been read."
# A collection's zip is built in memory up to this size, then in a temporary file.
SPOOL_BYTES = 32 * 2**20


@login_required
@require_GET
def note_export(request: HttpRequest, pk: int, format: str) -> HttpResponse:
    note = selectors.note_get(user=request.user, pk=pk)
    fmt = format_get(format)
    document = note_document(note, images=fmt.needs_images)
    if not document.pages:
        messages.error(request, NOTHING_TO_EXPORT)
        return redirect("recognition:note", pk=note.pk)
    export = archive.note_export(fmt, document)
    response = HttpResponse(export.data, content_type=export.content_type)
    response["Content-Disposition"] = content_disposition_header(True, export.name)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def collection_export(request: HttpRequest, pk: int, format: str) -> HttpResponse:
    collection = selectors.collection_get(user=request.user, pk=pk)
    fmt = format_get(format)
    notes = selectors.note_list(user=request.user, collection=collection)
    # A generator: one note (with its page images) is in memory at a time.
    documents = (note_document(note, images=fmt.needs_images) for note in notes)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the response closes it
    if not archive.collection_export(fmt, (d for d in documents if d.pages), out):
        out.close()
        messages.error(request, NOTHING_TO_EXPORT)
        return redirect("recognition:collection", pk=collection.pk)
    out.seek(0)
    stem = safe_name(collection.name).strip(". ") or "collection"
    response = FileResponse(out, as_attachment=True, filename=f"{stem}-{fmt.name}.zip",
                            content_type=archive.ZIP_TYPE)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def note_import(request: HttpRequest) -> HttpResponse:
    # Bound on every POST, even an empty one (`request.POST or None` would show a blank form).
    bound = request.method == "POST"
    form = ImportForm(request.POST if bound else None, request.FILES if bound else None,
                      user=request.user)
    if bound and form.is_valid():
        data = form.cleaned_data
        try:
            note = imports.note_import(user=request.user, xml_file=data["xml"],
                                       image_file=data["image"], collection=data["collection"],
                                       title=data["title"])
        except UploadError as err:
            form.add_error(None, err.problems)
        else:
            messages.success(request, f"“{note.title}” imported.")
            return redirect("recognition:note", pk=note.pk)
    return render(request, "recognition/import.html", {"form": form},
                  status=400 if bound else 200)
