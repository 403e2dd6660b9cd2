"""The phone capture page: photograph several pages in a row, upload them as one note.

capture.js (camera, thumbnails, rotate, crop, reorder, offline queue) posts the pages with
their rotations and crops and reads a JSON answer, in the shape of the upload page's:
{"notes": [pk], "redirect": url} (201), or {"error": {"code", "message", "fields"}}. Without
JavaScript the same form posts the chosen photos as they are, in the order chosen.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from recognition import capture
from recognition.api.errors import UPLOAD_STATUS, error_body, form_error_body
from recognition.exceptions import UploadError
from recognition.forms import MultipleFileField, MultipleFileInput
from recognition.models import Collection

# A note queued offline by one account, replayed while another is signed in on the phone.
ERROR_WRONG_USER = ("These pages were captured by another account on this phone; they upload "
                    "when it signs in again.")
SUCCESS = "{pages} page(s) uploaded as one note; recognition started."
# Phones send photos of 3-5 MB: capture.js shrinks each to this long side (about 300 DPI on
# an A4 page, more than recognition reads at) before sending or storing it.
CAPTURE_MAX_SIDE = 3000


class CaptureForm(forms.Form):
    page = MultipleFileField(
        label="Photos of the pages, in order", required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*"}))
    collection = forms.ModelChoiceField(queryset=Collection.objects.none(), required=False,
                                        empty_label="Inbox")
    title = forms.CharField(max_length=200, required=False,
                            help_text="Default: the date and time.")
    # The account that captured a note queued offline (capture.js); see ERROR_WRONG_USER.
    owner = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection"].queryset = Collection.objects.filter(owner=user)

    def clean(self):
        data = super().clean()
        try:
            data["pages"] = capture.pages_from_lists(
                uploads=data.get("page") or [], rotations=self.data.getlist("rotation"),
                crops=self.data.getlist("crop"))
        except UploadError as err:
            raise ValidationError({"page": err.problems}) from None
        return data


@login_required
@require_http_methods(["GET", "POST"])
def note_capture(request: HttpRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = CaptureForm(request.POST if posted else None, request.FILES if posted else None,
                       user=request.user)
    wants_json = "application/json" in request.headers.get("Accept", "")
    code, message = "invalid", None
    if posted and form.is_valid():
        data = form.cleaned_data
        if data["owner"] not in (None, request.user.pk):
            return JsonResponse(error_body("wrong_user", ERROR_WRONG_USER), status=409)
        try:
            note = capture.note_capture(user=request.user, pages=data["pages"],
                                        collection=data["collection"], title=data["title"])
        except UploadError as err:
            form.add_error("page", err.problems)
            code, message = err.code, str(err)
        else:
            target = reverse("recognition:note", args=[note.pk])
            if wants_json:
                return JsonResponse({"notes": [note.pk], "redirect": target}, status=201)
            messages.success(request, SUCCESS.format(pages=len(data["pages"])))
            return redirect(target)
    status = UPLOAD_STATUS.get(code, 400) if posted else 200
    if posted and wants_json:
        return JsonResponse(form_error_body(form, code, message), status=status)
    return render(request, "recognition/capture.html", {
        "form": form, "max_pages": capture.capture_page_limit(), "max_side": CAPTURE_MAX_SIDE,
        "max_bytes": settings.NOTES_MAX_UPLOAD_BYTES}, status=status)


# Included by recognition/urls.py under "capture/".
urlpatterns = [path("", note_capture, name="capture")]
