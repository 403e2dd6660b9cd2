"""Errors of the recognition app; their messages are shown to users as they are."""

from __future__ import annotations


class RecognitionAppError(Exception):
    """Base class: a problem the user should read about."""


class UploadError(RecognitionAppError):
    """An uploaded file is not acceptable. `problems` lists one message per bad file; `code`
    says what kind of problem: "too_large" (size or limits), "unsupported_type" or "invalid"."""

    def __init__(self, message: str, problems: list[str] | None = None, code: str = "invalid"):
        super().__init__(message)
        self.problems = problems or [message]
        self.code = code


class NoteBusyError(RecognitionAppError):
    """The note is already queued for or undergoing recognition."""


class RecognitionError(RecognitionAppError):
    """Recognition of a page failed in a way the user can understand."""


class InstantUnavailable(RecognitionAppError):
    """Instant recognition cannot answer now (its queue is full or its worker too slow)."""


class StorageFullError(UploadError):
    """The media storage refused a file (out of space, unreachable): nothing was kept. An
    upload error the user cannot fix but may retry: code "unavailable" (HTTP 503)."""

    def __init__(self, message: str):
        super().__init__(message, code="unavailable")


class PersonalModelError(RecognitionAppError):
    """A personal model cannot be trained or used as asked (too few lines, one already in
    training, a version that is not better)."""


class PersonalModelBusy(PersonalModelError):
    """The user's model is being trained already."""
