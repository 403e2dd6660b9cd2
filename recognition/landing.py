"""The landing page: what the site does, for visitors who are not logged in, with a sample
note beside what our recognizer really read from it (static/landing/sample.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

SAMPLE = Path("static") / "landing" / "sample.json"  # under BASE_DIR


@dataclass(frozen=True)
class SampleLine:
    """One line of the sample, shaped like a recognized `Line` for the `marked_words` filter."""

    text: str
    confidence: float
    words: list
    corrected: bool = False


@lru_cache(maxsize=1)
def sample_lines() -> tuple[SampleLine, ...]:
    """The recognizer's lines of the sample note, as committed (read once per process)."""
    data = json.loads((Path(settings.BASE_DIR) / SAMPLE).read_text(encoding="utf-8"))
    return tuple(SampleLine(text=line["text"], confidence=line["confidence"],
                            words=line["words"]) for line in data["lines"])


def landing_page(request: HttpRequest) -> HttpResponse:
    """What the product does, a real sample of its reading, and the ways in."""
    return render(request, "landing.html", {"sample_lines": sample_lines()})
