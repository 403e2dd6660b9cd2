"""Personal models end to end: a user's corrected lines fine-tune their recognizer in the
`training` cluster (run synchronously here), the new model is kept only when it reads their
held-out lines better, reads their next notes, and can be rolled back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from recognition import ocr, revisions, services
from recognition.exceptions import PersonalModelBusy, PersonalModelError
from recognition.models import Line, Note, PersonalModel
from recognition.personal import services as personal
from recognition.personal.training import MIN_HELD_OUT
from recognition.training_data import _bucket
from tests.ml.overfit import WORDS
from tests.personal.conftest import corrected_note

EIGHT = list(WORDS) * 2  # lines per page: enough held out on one page (MIN_HELD_OUT)


def train(user, django_capture_on_commit_callbacks) -> PersonalModel:
    with django_capture_on_commit_callbacks(execute=True):
        model = personal.personal_model_train(user=user)
    model.refresh_from_db()
    return model


def test_a_fine_tune_that_reads_the_users_lines_better_is_promoted(
        user, roboto, site_model, django_capture_on_commit_callbacks):
    site_model("untrained")
    corrected_note(user, [EIGHT] * 3, roboto)

    model = train(user, django_capture_on_commit_callbacks)

    assert model.status == PersonalModel.Status.PROMOTED and model.active
    assert (model.train_lines, model.held_out_lines) == (16, 8)  # one page of three held out
    assert model.cer_after < model.cer_before
    assert model.outcome in model.message and "next notes are read with it" in model.message
    assert model.parent is None and model.base_version.startswith("untrained.pt")
    assert default_storage.exists(model.file) and model.training_seconds > 0
    assert model.started <= model.finished


def test_a_fine_tune_that_is_not_better_keeps_the_old_model(
        user, roboto, site_model, django_capture_on_commit_callbacks):
    """The page measured on is read right by the site's model; the pages learned from were
    transcribed wrongly (each word typed as the next one): the new model reads worse."""
    site_model("reader")
    shifted = [WORDS[(WORDS.index(w) + 1) % len(WORDS)] for w in EIGHT]
    note = corrected_note(user, [EIGHT] * 3, roboto, texts=[shifted] * 3)
    held_out = min(note.pages.all(), key=_bucket)  # of three pages, the one held out
    for line in held_out.lines.all():
        Line.objects.filter(pk=line.pk).update(text=EIGHT[line.order])

    model = train(user, django_capture_on_commit_callbacks)

    assert model.status == PersonalModel.Status.KEPT_OLD and not model.active, model.message
    assert model.cer_after > model.cer_before and "not better" in model.message
    assert not model.file and not default_storage.exists(f"personal-models/{user.pk}/{model.pk}.pt")
    assert personal.personal_model_active(user_id=user.pk) is None


def test_the_users_model_reads_their_next_notes_and_rolls_back(
        user, other_user, roboto, site_model, jpeg_upload, django_capture_on_commit_callbacks):
    site_model("untrained")
    corrected_note(user, [EIGHT] * 3, roboto)
    first = train(user, django_capture_on_commit_callbacks)
    second = train(user, django_capture_on_commit_callbacks)  # from the first: a lineage
    assert second.parent == first
    assert second.status in (PersonalModel.Status.PROMOTED, PersonalModel.Status.KEPT_OLD)
    active = second if second.status == PersonalModel.Status.PROMOTED else first

    with django_capture_on_commit_callbacks(execute=True):
        [mine] = services.note_upload(user=user, files=[jpeg_upload()])
        [theirs] = services.note_upload(user=other_user, files=[jpeg_upload()])
    assert Note.objects.get(pk=mine.pk).status == Note.Status.DONE
    assert mine.jobs.get().model_version == active.version.strip()
    assert theirs.jobs.get().model_version.startswith("untrained.pt")

    assert personal.personal_model_reread(user=user) == 0  # her note was read with it
    other = PersonalModel.objects.create(owner=user, status=PersonalModel.Status.PROMOTED,
                                         file=first.file, parent=first, base_version="x")
    personal.personal_model_use(user=user, model=other)  # another version: her note is old
    with django_capture_on_commit_callbacks(execute=True):
        assert personal.personal_model_reread(user=user) == 1
    assert mine.jobs.order_by("-created").first().model_version == other.version.strip()
    assert theirs.jobs.count() == 1  # never another user's note

    personal.personal_model_use(user=user, model=None)  # back to the site's model
    assert ocr.model_for(user.pk).version.startswith("untrained.pt")
    personal.personal_model_use(user=user, model=first)  # or to an earlier version
    assert ocr.model_for(user.pk).version == first.version
    assert PersonalModel.objects.filter(owner=user, active=True).get() == first


def test_only_a_promoted_model_of_ones_own_can_be_used(user, other_user):
    kept = PersonalModel.objects.create(owner=user, status=PersonalModel.Status.KEPT_OLD)
    theirs = PersonalModel.objects.create(owner=other_user, file="x.pt",
                                          status=PersonalModel.Status.PROMOTED)
    for model in (kept, theirs):
        with pytest.raises(PersonalModelError):
            personal.personal_model_use(user=user, model=model)
    assert not PersonalModel.objects.filter(active=True).exists()


def test_training_needs_enough_lines_and_one_at_a_time(user, roboto, settings):
    corrected_note(user, [WORDS], roboto)
    with pytest.raises(PersonalModelError, match="at least 10, and you have 4"):
        personal.personal_model_train(user=user)
    settings.NOTES_PERSONAL_MODEL_MIN_LINES = 4
    personal.personal_model_train(user=user)  # queued (its task runs on commit)
    with pytest.raises(PersonalModelBusy):
        personal.personal_model_train(user=user)


def test_too_few_pages_to_hold_lines_out_fails_readably(
        user, roboto, site_model, django_capture_on_commit_callbacks, settings):
    site_model("untrained")
    settings.NOTES_PERSONAL_MODEL_MIN_LINES = 4
    corrected_note(user, [WORDS], roboto)  # one page of four lines: every fifth held out
    model = train(user, django_capture_on_commit_callbacks)
    assert model.status == PersonalModel.Status.FAILED and "too few pages" in model.message
    assert MIN_HELD_OUT > 1


def test_enough_new_corrections_start_a_fine_tune_by_themselves(
        user, roboto, site_model, settings, django_capture_on_commit_callbacks):
    site_model("untrained")
    settings.NOTES_PERSONAL_MODEL_EVERY = 20
    note = corrected_note(user, [EIGHT] * 3, roboto)
    third = note.pages.get(number=3).lines.order_by("order")
    third.update(corrected=False)
    assert personal.personal_model_maybe_train(user_id=user.pk) is None  # 16: not yet
    assert not PersonalModel.objects.exists()

    cache.clear()  # a minute later, the page's lines corrected but one
    Line.objects.filter(pk__in=[line.pk for line in third[1:]]).update(corrected=True)
    line = third[0]
    note.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):  # the edit, then its fine-tune
        revisions.lines_update(user=user, note=note, edits={line.pk: "notes"},
                               base_revision=note.revision)

    [model] = PersonalModel.objects.all()
    assert model.reason == "Automatic: 24 new corrected lines" and model.corrections == 24
    assert model.status not in PersonalModel.ACTIVE  # it ran (synchronously here)
    cache.clear()
    assert personal.personal_model_maybe_train(user_id=user.pk) is None  # nothing new since


def test_a_fine_tune_whose_worker_died_is_failed(user):
    long_ago = timezone.now() - dt.timedelta(hours=3)
    PersonalModel.objects.create(owner=user, status=PersonalModel.Status.TRAINING,
                                 started=long_ago)
    assert personal.personal_models_expire_stale() == 1
    assert PersonalModel.objects.get().status == PersonalModel.Status.FAILED


def test_the_handwriting_page_and_its_buttons(alice_client, user, roboto, settings):
    settings.NOTES_PERSONAL_MODEL_EVERY = 100
    page = alice_client.get(reverse("recognition:personal-model")).content.decode()
    assert "Correct 10 more to train your own model" in page and "No model trained yet" in page

    promoted = PersonalModel.objects.create(owner=user, status=PersonalModel.Status.PROMOTED,
                                            file="x.pt", cer_before=0.18, cer_after=0.072,
                                            train_lines=160, finished=timezone.now())
    response = alice_client.post(reverse("recognition:personal-model-use", args=[promoted.pk]),
                                 follow=True)
    assert "Your model, version" in response.content.decode()
    assert "18% → 7.2%" in response.content.decode()
    assert "Read my" not in response.content.decode()  # no note read by another model
    response = alice_client.post(reverse("recognition:personal-model-reread"), follow=True)
    assert "0 note(s) queued" in response.content.decode()
    response = alice_client.post(reverse("recognition:personal-model-standard"), follow=True)
    assert "The standard model" in response.content.decode()

    response = alice_client.post(reverse("recognition:personal-model-train"), follow=True)
    assert "at least 10" in response.content.decode()  # refused, and said why


def test_the_api_lists_trains_and_switches(user, roboto, settings):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)
    response = api.post("/api/v1/personal-models/train/")
    assert response.status_code == 400 and "at least 10" in response.json()["error"]["message"]

    promoted = PersonalModel.objects.create(owner=user, status=PersonalModel.Status.PROMOTED,
                                            file="x.pt")
    assert api.post(f"/api/v1/personal-models/{promoted.pk}/use/").json()["active"] is True
    current = api.get("/api/v1/personal-models/current/").json()
    assert current["active"]["id"] == promoted.pk and current["lines_needed"] == 10
    assert api.post("/api/v1/personal-models/use-standard/").status_code == 204
    assert api.get("/api/v1/personal-models/current/").json()["active"] is None
    response = api.post("/api/v1/personal-models/reread/")
    assert response.status_code == 400 and "no model of your own" in response.json()[
        "error"]["message"]

    PersonalModel.objects.create(owner=user, status=PersonalModel.Status.TRAINING,
                                 started=timezone.now())
    corrected_note(user, [EIGHT, EIGHT], roboto)
    response = api.post("/api/v1/personal-models/train/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "busy"
    assert [m["id"] for m in api.get("/api/v1/personal-models/").json()["results"]][-1] == \
        promoted.pk


def test_staff_see_every_users_fine_tunes_read_only(client, user, alice_client):
    from tests.factories import UserFactory

    PersonalModel.objects.create(owner=user, status=PersonalModel.Status.PROMOTED, file="x.pt",
                                 cer_before=0.2, cer_after=0.1, message="rêverie")
    url = reverse("admin:recognition_personalmodel_changelist")
    assert alice_client.get(url).status_code == 302  # not staff: to the admin's log-in
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(url).content.decode()
    assert "alice" in page and "20% → 10%" in page
    model = PersonalModel.objects.get()
    change = client.get(reverse("admin:recognition_personalmodel_change", args=[model.pk]))
    assert change.status_code == 200 and 'name="status"' not in change.content.decode()
