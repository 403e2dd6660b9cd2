"""Fixtures of the recognition tests."""

import pytest

from recognition import revisions
from recognition.models import Line, Note, Page, Revision


@pytest.fixture
def text_note(user):
    """A recognized two-page note, made directly (recognition itself is tested elsewhere).

    Its page images are not stored; tests that need them upload a real note instead.
    """
    note = Note.objects.create(owner=user, collection=user.collections.create(name="Inbox"),
                               title="Lecture", kind="pdf", content_type="application/pdf",
                               size=1, sha256="0", original="notes/x/original.pdf",
                               status="done", pages_total=2, pages_done=2)
    texts = {1: ["the quick brown fox", "jumps over the lazy dog"], 2: ["second page here"]}
    for number, lines in texts.items():
        page = Page.objects.create(note=note, number=number, image=f"p{number}.jpg",
                                   width=1000, height=1000, recognized=True)
        for order, text in enumerate(lines):
            Line.objects.create(page=page, order=order, text=text, machine_text=text,
                                polygon=[[0, 100 * order], [900, 100 * order],
                                         [900, 100 * order + 80], [0, 100 * order + 80]])
    revisions.revision_record(note=note, kind=Revision.Kind.MACHINE, summary="Recognized")
    note.refresh_from_db()
    return note
