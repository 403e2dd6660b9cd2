"""One error shape for every API failure: {"error": {"code", "message", "fields"}}.

DRF's own exceptions, Django's 404/403 and the app's errors all come out the same way, so a
client has one thing to parse; nothing under /api/ answers with an HTML page.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from recognition.exceptions import (
    InstantUnavailable,
    NoteBusyError,
    PersonalModelBusy,
    RecognitionAppError,
    UploadError,
)
from recognition.revisions import RevisionConflict

UPLOAD_STATUS = {"too_large": 413, "unsupported_type": 415, "invalid": 400, "unavailable": 503}
INSTANT_RETRY_AFTER = 10  # seconds: a few pages' worth of instant recognition


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The object changed since you read it."


def error_body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}


ERROR_FIELDS = "Some fields are not valid."


def form_error_body(form, code: str = "invalid", message: str | None = None) -> dict:
    """A Django form's errors in the same shape (non-field ones under "non_field"): the JSON
    answers of the HTML pages (an upload, a capture) read like the API's."""
    fields = {("non_field" if name == "__all__" else name): [str(e) for e in errors]
              for name, errors in form.errors.items()}
    texts = [text for errors in fields.values() for text in errors]
    return error_body(code, message or (texts[0] if len(texts) == 1 else ERROR_FIELDS), fields)


def _flatten(detail) -> dict:
    """DRF validation detail -> {field: [messages]} (non-field errors under "non_field")."""
    if isinstance(detail, dict):
        return {key: [str(m) for m in (value if isinstance(value, list) else [value])]
                for key, value in detail.items()}
    messages = detail if isinstance(detail, list) else [detail]
    return {"non_field": [str(m) for m in messages]}


def exception_handler(exc, context):
    if isinstance(exc, RevisionConflict):
        return Response(error_body("conflict", str(exc), current_revision=exc.current,
                                   current_lines={str(k): v for k, v in exc.lines.items()}),
                        status=409)
    if isinstance(exc, (NoteBusyError, PersonalModelBusy)):
        return Response(error_body("busy", str(exc)), status=409)
    if isinstance(exc, UploadError):
        fields = {"file": exc.problems}
        return Response(error_body(exc.code, str(exc), fields),
                        status=UPLOAD_STATUS.get(exc.code, 400))
    if isinstance(exc, InstantUnavailable):
        return Response(error_body("unavailable", str(exc)), status=503,
                        headers={"Retry-After": str(INSTANT_RETRY_AFTER)})
    if isinstance(exc, RecognitionAppError):
        field = getattr(exc, "field", None)  # an error about one input (a line's text, ...)
        return Response(error_body("invalid", str(exc), {field: [str(exc)]} if field else None),
                        status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500 handler answers (as JSON under /api/)
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next(iter(fields.values()))[0] if fields else "Invalid input."
        message = first if list(fields) == ["non_field"] else ERROR_FIELDS
        response.data = error_body("invalid", message, fields)
        return response
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    if not isinstance(code, str):
        code = "error"
    if isinstance(exc, exceptions.Throttled) and exc.wait:
        detail = f"Too many requests. Try again in {int(exc.wait) + 1} seconds."
    response.data = error_body(code, str(detail))
    return response


def api_not_found(request, exception=None):
    return JsonResponse(error_body("not_found", "No such endpoint."), status=404)


def api_server_error(request):
    return JsonResponse(error_body("server_error", "Something went wrong on our side; it was "
                                   "logged. Try again later."), status=500)
