"""Refuses oversized uploads while they stream in, before anything stores them.

Django hands every uploaded file's bytes to the FILE_UPLOAD_HANDLERS in turn, and the next ones
(in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE, else a temporary file) keep them. This handler
comes first. A file over NOTES_MAX_UPLOAD_BYTES, a file past NOTES_MAX_FILES_PER_UPLOAD, and
every file of a request whose declared length is more than any acceptable request could be,
are kept from them: at most the per-file limit of a file is stored before it is found too
large (a multipart part rarely declares its length), none of it when that is known up front.
Such a file becomes a `RefusedUpload` that says why, and the usual checks
(`uploads.check_upload`) refuse it, so the pages and the API answer 413 with their usual
messages.

The rest of a refused body is read and dropped rather than left unread (StopUpload): the CSRF
check parses the body in a middleware, before any view could answer, so a parse cut short
reaches the view without the refused files (or without the token: a 403); and a browser whose
request is cut off mid-send shows a network error instead of our answer. How long a huge body
may take to arrive is the reverse proxy's to bound (nginx `client_max_body_size`).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers

from recognition.uploads import (
    ERROR_TOO_BIG,
    ERROR_TOO_MANY_FILES,
    RefusedUpload,
    safe_name,
)

ERROR_REQUEST_TOO_BIG = (
    "The upload is {size:.0f} MB in all; the limit is {limit:.0f} MB "
    "({files} files of {per_file:.0f} MB at most)."
)
# Room for the form's other fields and the multipart framing around the files.
FORM_ALLOWANCE = 64 * 1024


def request_limit() -> int:
    """The largest request body an upload can have: every file at its limit, plus the form."""
    return (settings.NOTES_MAX_UPLOAD_BYTES * settings.NOTES_MAX_FILES_PER_UPLOAD
            + (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) + FORM_ALLOWANCE)


class UploadLimitHandler(FileUploadHandler):
    """Passes a file's bytes on to the next handlers only while it is within the limits."""

    def __init__(self, request=None):
        super().__init__(request)
        self.request_size = 0
        self.files = 0  # file parts seen in this request
        self.stored = 0  # bytes handed on to the next handlers, all files together
        self.received = 0  # bytes of the current file
        self.refusal = ""  # why the current file is refused: "", "size", "count" or "request"

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        """Note the body's declared length; the parsing itself is Django's."""
        self.request_size = content_length
        return None

    def new_file(self, field_name, file_name, content_type, content_length, charset=None,
                 content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset,
                         content_type_extra)
        self.files += 1
        self.received = 0
        if self.request_size > request_limit():
            self.refusal = "request"
        elif self.files > settings.NOTES_MAX_FILES_PER_UPLOAD:
            self.refusal = "count"
        elif content_length is not None and content_length > settings.NOTES_MAX_UPLOAD_BYTES:
            self.refusal = "size"
        else:
            self.refusal = ""
        if self.refusal:
            raise StopFutureHandlers  # the next handlers open no buffer for this file

    def receive_data_chunk(self, raw_data, start):
        """Hand the chunk on, or drop it once the file is over its limit."""
        self.received += len(raw_data)
        if not self.refusal and self.received > settings.NOTES_MAX_UPLOAD_BYTES:
            self.refusal = "size"
            self._free_stored_part()
        if self.refusal:
            return None
        self.stored += len(raw_data)
        return raw_data

    def file_complete(self, file_size):
        """A RefusedUpload for a refused file; None lets the next handler make an accepted one."""
        if not self.refusal:
            return None
        return RefusedUpload(self.file_name, self.content_type, self.received, self._reason())

    def _reason(self) -> str:
        limit = settings.NOTES_MAX_UPLOAD_BYTES
        if self.received > limit:
            return ERROR_TOO_BIG.format(name=safe_name(self.file_name),
                                        size=self.received / 2**20, limit=limit / 2**20)
        if self.refusal == "count":
            return ERROR_TOO_MANY_FILES.format(count=f"More than {self.files - 1}",
                                               limit=settings.NOTES_MAX_FILES_PER_UPLOAD)
        return ERROR_REQUEST_TOO_BIG.format(
            size=self.request_size / 2**20, limit=request_limit() / 2**20,
            files=settings.NOTES_MAX_FILES_PER_UPLOAD, per_file=limit / 2**20)

    def _free_stored_part(self) -> None:
        """Drop what the next handlers kept of this file (a temporary file is deleted)."""
        for handler in self.request.upload_handlers:
            if handler is not self and getattr(handler, "file", None) is not None:
                handler.file.close()
