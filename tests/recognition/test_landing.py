"""The landing page: what the site does, a sample note beside the recognizer's real reading,
and the ways in."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse

from recognition.landing import landing_page, sample_lines

SAMPLE = Path(settings.BASE_DIR) / "static" / "landing"


def visit(db_request=None) -> str:
    request = db_request or RequestFactory().get("/")
    request.user = AnonymousUser()
    response = landing_page(request)
    assert response.status_code == 200
    return response.content.decode()


def test_landing_page_says_what_the_product_does(db):
    page = visit()
    for claim in ("searchable", "edit", "typos", "Word", "ALTO", "phone", "handwriting"):
        assert claim in page, claim


def test_landing_page_offers_sign_up_and_log_in(db):
    page = visit()
    assert f'href="{reverse("accounts:signup")}"' in page
    assert f'href="{reverse("accounts:login")}"' in page


def test_landing_page_shows_the_committed_sample_image(db):
    assert (SAMPLE / "sample.png").stat().st_size > 10_000
    assert 'src="/static/landing/sample.png"' in visit()


def test_landing_page_shows_the_recognizers_lines_as_committed(db):
    page = visit()
    recorded = json.loads((SAMPLE / "sample.json").read_text(encoding="utf-8"))
    assert len(recorded["lines"]) == 5
    for line in recorded["lines"]:
        for word in line["words"]:
            assert word["text"] in page
    assert "the recognizer's real output" in page


def test_sample_lines_mark_the_words_the_recognizer_doubted(db, settings):
    settings.NOTES_LOW_CONFIDENCE = 0.6
    page = visit()
    doubted = [w for line in sample_lines() for w in line.words if w["confidence"] < 0.6]
    assert doubted
    for word in doubted:
        assert f'>{word["text"]}</span>' in page
    assert page.count('class="doubt" title=') == len(doubted)


def test_sample_words_make_up_each_line(db):
    for line in sample_lines():
        assert " ".join(w["text"] for w in line.words) == line.text


def test_anonymous_home_is_the_landing_page(client):
    response = client.get(reverse("recognition:home"))
    assert response.status_code == 200
    assert "A sample note, and what our recognizer read" in response.content.decode()


@pytest.mark.slow  # loads the recognizer and reads a page on the CPU (about 5 s)
def test_sample_text_is_what_the_recognizer_reads_from_the_sample_image():
    """The sample names the committed model, and that model reads the image as recorded.

    Up to a character or two: on another CPU a doubtful character can come out otherwise
    (the last line's "room 3", as recorded, read "room s" on an AVX-512 machine: the kernels'
    float rounding differs), so the reading may differ from the record by 2% of its characters.
    """
    from ml.checkpoint import load_model
    from ml.metrics import ErrorCounter
    from ml.recognize import RecognizeConfig, run

    recorded = json.loads((SAMPLE / "sample.json").read_text(encoding="utf-8"))
    assert recorded["model_created"] == load_model(settings.NOTES_MODEL_PATH)[2]["created"]
    [page] = run(RecognizeConfig(images=(SAMPLE / "sample.png",)))
    assert len(page.lines) == len(sample_lines())
    counter = ErrorCounter()
    for line, sample in zip(page.lines, sample_lines(), strict=True):
        counter.add(line.text, sample.text)
    assert counter.cer <= 0.02, [line.text for line in page.lines]
