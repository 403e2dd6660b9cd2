"""Fixtures of the search tests: notes with recognized lines, made directly and indexed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from recognition.models import Collection, Line, Note, Page, Revision, Tag
from recognition.revisions import revision_record


def words_with_alternatives(text: str, alternatives: dict[str, list[str]]) -> list[dict]:
    """The recognizer's words for `text`: {"written word": [other readings]}."""
    return [
        {"text": word, "confidence": 0.5,
         "alternatives": [{"text": word, "probability": 0.6}]
         + [{"text": other, "probability": 0.2} for other in alternatives.get(word, [])]}
        for word in text.split()
    ]


@pytest.fixture
def make_note(django_capture_on_commit_callbacks):
    """make_note(owner, pages, ...): a recognized note, indexed the way the signal does it.

    `pages` is a list of lines (one page) or {page number: lines}; a line is its text, or
    (text, {"word": [alternative readings]}).
    """

    def make(owner, pages, *, title="Notes", collection: Collection | None = None,
             note_date: dt.date | None = None, tags=()) -> Note:
        pages = pages if isinstance(pages, dict) else {1: pages}
        collection = collection or Collection.objects.get_or_create(owner=owner,
                                                                    name="Inbox")[0]
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            note = Note.objects.create(
                owner=owner, collection=collection, title=title, note_date=note_date,
                kind="image", content_type="image/jpeg", size=1, sha256="0",
                original=f"notes/{title}/original.jpg", status="done",
                pages_total=len(pages), pages_done=len(pages))
            note.tags.set(Tag.objects.get_or_create(owner=owner, name=name)[0] for name in tags)
            for number, lines in pages.items():
                page = Page.objects.create(note=note, number=number, image="", width=1000,
                                           height=1000, recognized=True)
                for order, line in enumerate(lines):
                    text, alternatives = line if isinstance(line, tuple) else (line, {})
                    Line.objects.create(
                        page=page, order=order, text=text, machine_text=text,
                        words=words_with_alternatives(text, alternatives),
                        polygon=[[10, 100 * order + 10], [900, 100 * order + 10],
                                 [900, 100 * order + 80], [10, 100 * order + 80]])
            revision_record(note=note, kind=Revision.Kind.MACHINE, summary="Recognized")
        note.refresh_from_db()
        return note

    return make
