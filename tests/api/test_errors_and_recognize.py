"""The API's error shape everywhere, and instant recognition."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.conftest import assert_error
from tests.conftest import encode


def test_unknown_endpoint_is_json_404(api):
    assert_error(api.get("/api/v1/nothing-here/"), 404, "not_found")


def test_wrong_method_is_json_405(api):
    assert_error(api.put("/api/v1/lines/1/", {}, format="json"), 405, "method_not_allowed")


def test_malformed_json_is_400(api):
    response = api.generic("POST", "/api/v1/collections/", "{not json",
                           content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_unsupported_body_type_is_415(api):
    response = api.generic("POST", "/api/v1/collections/", "name=x",
                           content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


def test_schema_and_docs_are_served(anon):
    schema = anon.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/notes/{id}/retry/" in schema.content
    docs = anon.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content


def test_instant_recognition_returns_text_and_stores_nothing(api, page_image, media_root):
    from recognition.models import Note

    image = SimpleUploadedFile("quick.jpg", encode(page_image, "JPEG"))
    response = api.post("/api/v1/recognize/?detail=1", {"file": image}, format="multipart")
    assert response.status_code == 200
    body = response.json()
    assert len(body["text"]) > 50 and len(body["lines"]) >= 5
    assert body["text"] == "\n".join(line["text"] for line in body["lines"] if line["text"])
    assert not Note.objects.exists() and not any(media_root.rglob("*.*"))
    assert body["partial"] is False and body["unread_lines"] == 0
    assert all(line["read"] for line in body["lines"])
    plain = api.post("/api/v1/recognize/", {"file": SimpleUploadedFile(
        "q.jpg", encode(page_image, "JPEG"))}, format="multipart").json()
    assert set(plain) == {"text", "partial", "unread_lines"}


def test_instant_recognition_out_of_time_says_what_it_left_unread(api, page_image, settings):
    settings.NOTES_PAGE_SECONDS = 0
    image = SimpleUploadedFile("quick.jpg", encode(page_image, "JPEG"))
    body = api.post("/api/v1/recognize/?detail=1", {"file": image}, format="multipart").json()
    assert body["partial"] is True and body["unread_lines"] == len(body["lines"]) > 0
    assert body["text"] == "" and not any(line["read"] for line in body["lines"])


def test_instant_recognition_refuses_pdfs_and_junk(api, pdf_upload):
    assert_error(api.post("/api/v1/recognize/", {"file": pdf_upload()}, format="multipart"),
                 415, "unsupported_type")
    assert_error(api.post("/api/v1/recognize/", {"file": SimpleUploadedFile("x.bin", b"junk")},
                          format="multipart"), 415)
    assert_error(api.post("/api/v1/recognize/", {}, format="multipart"), 400, "invalid")


def test_instant_recognition_is_rate_limited(api, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"recognize": "2/minute"})
    for _ in range(2):
        api.post("/api/v1/recognize/", {}, format="multipart")
    error = assert_error(api.post("/api/v1/recognize/", {}, format="multipart"), 429,
                         "throttled")
    assert "Try again in" in error["message"]


@pytest.mark.parametrize("path", ["/api/v1/notes/", "/api/v1/auth/me/"])
def test_no_html_even_for_browsers(anon, path):
    response = anon.get(path, HTTP_ACCEPT="text/html")
    assert response["Content-Type"].startswith("application/json")
