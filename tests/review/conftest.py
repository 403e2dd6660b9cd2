"""Fixtures of the review panel's tests: staff users, and notes with lines of known
confidence (made directly) or recognized from a real page image (uploaded and run)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from recognition import services
from recognition.models import Collection, Line, Note, Page, RecognitionJob, Revision
from recognition.revisions import revision_record
from tests.factories import UserFactory


@pytest.fixture
def reviewer(db):
    """A staff member in the "Reviewers" group that migration 0008 creates."""
    user = UserFactory(username="rita", is_staff=True)
    user.groups.add(Group.objects.get(name="Reviewers"))
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def reviewer_client(client_factory, reviewer):
    client = client_factory()
    client.force_login(reviewer)
    return client


@pytest.fixture
def superuser_client(client_factory, superuser):
    client = client_factory()
    client.force_login(superuser)
    return client


def grant(user, *codenames: str):
    """Give the user these permissions ("app_label.codename") besides their groups'."""
    for name in codenames:
        app, codename = name.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app,
                                                         codename=codename))


@pytest.fixture
def make_note(django_capture_on_commit_callbacks):
    """make_note(owner, [(text, confidence), ...], ...): a recognized one-page note whose
    lines have these confidences, its last job done with `model_version`, indexed for search.

    Each word has its line's confidence (so the words of a line under NOTES_LOW_CONFIDENCE
    are marked unsure).
    """

    def make(owner, lines, *, title="Notes", collection: str = "Inbox", status="done",
             model_version="crnn.pt 2026-01-01") -> Note:
        folder = Collection.objects.get_or_create(owner=owner, name=collection)[0]
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            note = Note.objects.create(
                owner=owner, collection=folder, title=title, kind="image",
                content_type="image/jpeg", size=1, sha256="0",
                original=f"notes/{title}/original.jpg", status=status, pages_total=1,
                pages_done=1)
            page = Page.objects.create(note=note, number=1, image="", width=1000,
                                       height=1000, recognized=True)
            for order, (text, confidence) in enumerate(lines):
                Line.objects.create(
                    page=page, order=order, text=text, machine_text=text,
                    confidence=confidence,
                    words=[{"text": word, "confidence": confidence,
                            "alternatives": []} for word in text.split()],
                    polygon=[[10, 100 * order + 10], [900, 100 * order + 10],
                             [900, 100 * order + 80], [10, 100 * order + 80]])
            RecognitionJob.objects.create(note=note, status="done", attempts=1,
                                          model_version=model_version)
            revision_record(note=note, kind=Revision.Kind.MACHINE, summary="Recognized")
        note.refresh_from_db()
        return note

    return make


@pytest.fixture
def idle_and_busy(user, make_note):
    """Two of Alice's notes, "idle" and "busy" (its run alive): what a bulk re-run skips."""
    idle = make_note(user, [("one", 0.3)], title="idle")
    busy = make_note(user, [("two", 0.3)], title="busy")
    RecognitionJob.objects.create(note=busy, status=RecognitionJob.Status.RUNNING,
                                  started=timezone.now(), heartbeat=timezone.now())
    return idle, busy


@pytest.fixture
def recognized_note(user, jpeg_upload, django_capture_on_commit_callbacks):
    """Alice's photo of a page, recognized by the committed model (inline, NOTES_Q_SYNC)."""
    with django_capture_on_commit_callbacks(execute=True):
        [note] = services.note_upload(user=user, files=[jpeg_upload()], title="Photo")
    note.refresh_from_db()
    assert note.status == Note.Status.DONE, note.error
    return note
