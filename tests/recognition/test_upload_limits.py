"""Oversized uploads are refused while they stream in (`recognition.upload_limits`): a 413
with the usual error shapes, and no more of the file kept in memory or on disk than the limit.

The bodies are generated as they are read (a 190 MB upload never exists in the test's memory),
and sent through Django's test client with the CSRF check on, so the body is parsed where it
is in production: by the CSRF middleware, before the view.
"""

from __future__ import annotations

import io
import tracemalloc

import pytest
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client
from rest_framework.authtoken.models import Token

from recognition import upload_limits
from recognition.models import Note
from tests.conftest import encode

BOUNDARY = "----notes-test-boundary"
CSRF_TOKEN = "a" * 32  # a cookie secret, sent back unmasked in the form (Django accepts it)
MB = 2**20


class GeneratedBody(io.RawIOBase):
    """A multipart body with one file of `size` bytes, made as it is read; counts what was."""

    def __init__(self, field: str, size: int, head: bytes = b"", fields: dict | None = None):
        parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                 f"{value}\r\n".encode() for name, value in (fields or {}).items()]
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; '
                     f'filename="huge.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode())
        self.prefix = b"".join(parts) + head
        self.suffix = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.filler = size - len(head)
        self.length = len(self.prefix) + self.filler + len(self.suffix)
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        position, wanted = self.read_bytes, len(buffer)
        chunk = bytearray()
        if position < len(self.prefix):
            chunk += self.prefix[position:position + wanted]
        filler_start = len(self.prefix)
        filler_end = filler_start + self.filler
        if len(chunk) < wanted and position + len(chunk) < filler_end:
            count = min(wanted - len(chunk), filler_end - (position + len(chunk)))
            chunk += bytes(count)  # zeros: what follows a JPEG's first bytes does not matter
        if len(chunk) < wanted and position + len(chunk) >= filler_end:
            offset = position + len(chunk) - filler_end
            chunk += self.suffix[offset:offset + wanted - len(chunk)]
        buffer[:len(chunk)] = chunk
        self.read_bytes += len(chunk)
        return len(chunk)


def post_streamed(client: Client, path: str, body: GeneratedBody, **headers):
    """POST the body as it is generated; the response and the peak memory it took (bytes)."""
    tracemalloc.start()
    try:
        response = client.request(
            REQUEST_METHOD="POST", PATH_INFO=path, CONTENT_LENGTH=str(body.length),
            CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}", **{"wsgi.input": body},
            **headers)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return response, peak


class RecordingTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Django's handler of files too large for memory, noting what it wrote to disk per file."""

    written: list[int] = []

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.written.append(0)

    def receive_data_chunk(self, raw_data, start):
        self.written[-1] += len(raw_data)
        return super().receive_data_chunk(raw_data, start)


@pytest.fixture
def temp_dir(settings, tmp_path):
    """Where uploads too large for memory are written, by a handler that notes how much;
    the folder is checked to be empty again after the request."""
    folder = tmp_path / "upload-temp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    recording = f"{__name__}.{RecordingTemporaryFileUploadHandler.__name__}"
    settings.FILE_UPLOAD_HANDLERS = [
        recording if path.endswith(".TemporaryFileUploadHandler") else path
        for path in settings.FILE_UPLOAD_HANDLERS]
    RecordingTemporaryFileUploadHandler.written = []
    return folder


def written_to_disk() -> int:
    return max(RecordingTemporaryFileUploadHandler.written, default=0)


@pytest.fixture
def web(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = CSRF_TOKEN
    return client


def limiter(response) -> upload_limits.UploadLimitHandler:
    [handler] = [h for h in response.wsgi_request.upload_handlers
                 if isinstance(h, upload_limits.UploadLimitHandler)]
    return handler


def test_a_190_mb_photo_is_refused_with_413_keeping_no_more_than_the_limit(
        web, temp_dir, page_image):
    head = encode(page_image.convert("RGB"), "JPEG")[:2048]  # a real JPEG's start
    body = GeneratedBody("files", 190 * MB, head, {"csrfmiddlewaretoken": CSRF_TOKEN})

    response, peak = post_streamed(web, "/notes/upload/", body, HTTP_ACCEPT="application/json")

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large"
    assert error["fields"]["files"] == ["“huge.jpg” is 190.0 MB; the limit is 25 MB."]
    assert written_to_disk() <= 25 * MB  # only the limit was ever kept, and not in memory:
    assert peak < 20 * MB
    handler = limiter(response)
    assert handler.received == 190 * MB  # the rest was read (to give the browser its answer)
    assert handler.stored == written_to_disk()  # and dropped
    assert list(temp_dir.iterdir()) == []  # the temporary file of its first 25 MB is gone
    assert not Note.objects.exists()


def test_the_upload_page_shows_the_refusal_with_413(web, temp_dir, settings):
    settings.NOTES_MAX_UPLOAD_BYTES = 1 * MB
    body = GeneratedBody("files", 6 * MB, fields={"csrfmiddlewaretoken": CSRF_TOKEN})

    response, _ = post_streamed(web, "/notes/upload/", body)

    assert response.status_code == 413
    assert "“huge.jpg” is 6.0 MB; the limit is 1 MB." in response.content.decode()
    assert written_to_disk() <= 1 * MB
    assert not Note.objects.exists()


def test_the_api_refuses_a_large_file_with_413_in_its_error_shape(user, temp_dir, settings):
    settings.NOTES_MAX_UPLOAD_BYTES = 1 * MB
    api = Client()
    token = Token.objects.get_or_create(user=user)[0].key
    body = GeneratedBody("file", 40 * MB)

    response, peak = post_streamed(api, "/api/v1/notes/", body,
                                   HTTP_AUTHORIZATION=f"Token {token}")

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large"
    assert error["fields"]["file"] == ["“huge.jpg” is 40.0 MB; the limit is 1 MB."]
    assert written_to_disk() <= 1 * MB and peak < 10 * MB
    assert list(temp_dir.iterdir()) == []
    assert not Note.objects.exists()


def test_a_body_larger_than_any_upload_could_be_is_stored_not_at_all(web, temp_dir, settings):
    settings.NOTES_MAX_UPLOAD_BYTES = 1 * MB
    settings.NOTES_MAX_FILES_PER_UPLOAD = 2
    body = GeneratedBody("files", 8 * MB, fields={"csrfmiddlewaretoken": CSRF_TOKEN})
    assert body.length > upload_limits.request_limit()

    response, _ = post_streamed(web, "/notes/upload/", body, HTTP_ACCEPT="application/json")

    assert response.status_code == 413
    assert response.json()["error"]["fields"]["files"] == [
        "“huge.jpg” is 8.0 MB; the limit is 1 MB."]
    assert written_to_disk() == 0  # known from the request's length: nothing was written
    assert not Note.objects.exists()

