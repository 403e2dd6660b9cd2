"""Re-running notes with a model version staff choose (the standard model or one of the
owner's promoted personal models): the choice page, the runs it queues, what is refused, and
the audit entry. Runs read with the committed model: as the site's, and as personal copies of
it, whose recorded version names them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files import File
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from recognition import ocr, review, revisions, runs, services
from recognition.admin.rerun import BUSY, HELP, HELP_MANY_OWNERS, READ_WITH, RERUN, STANDARD_LABEL
from recognition.exceptions import PersonalModelError
from recognition.models import Line, Note, PersonalModel, RecognitionJob, StaffAction
from tests.factories import UserFactory

NOTES = reverse("admin:recognition_note_changelist")
LINES = reverse("admin:recognition_line_changelist")
ACTION = "rerun_with_model"
VIEW = "admin:recognition_note_changelist"


def promoted(owner, *, with_file: bool = False, active: bool = False,
             status: str = PersonalModel.Status.PROMOTED) -> PersonalModel:
    """A personal model of `owner`; `with_file`: a copy of the site's model in the storage
    (else a file name that is not there)."""
    model = PersonalModel.objects.create(owner=owner, status=status, active=active,
                                         base_version="crnn.pt", file="missing.pt")
    if with_file:
        with open(settings.NOTES_MODEL_PATH, "rb") as source:
            model.file = default_storage.save(f"personal-models/{owner.pk}/{model.pk}.pt",
                                              File(source))
        model.save(update_fields=["file"])
    return model


@pytest.fixture(autouse=True)
def fresh_recognizers():
    yield
    ocr._recognizer.cache_clear()  # the personal copies lived in this test's media folder


@pytest.fixture
def photo(recognized_note):
    """Alice's photographed page, read once by the site's model."""
    return recognized_note


def choose(client, url: str, ids: list[int], model: str | None = None):
    """The action bar's post (no `model`: the choice page), or the choice page's (`apply`)."""
    data = {"action": ACTION, "_selected_action": ids}
    if model is None:
        data["index"] = "0"
    else:
        data.update(model=model, apply="Re-run recognition")
    return client.post(url, data, follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def offered(response) -> list[tuple[str, str]]:
    return list(response.context["form"].fields["model"].choices)


# The choice page ---------------------------------------------------------------------------------

def test_the_choice_page_offers_the_standard_model_and_the_owners_promoted_versions(
        reviewer_client, user, other_user, make_note):
    note = make_note(user, [("one", 0.3)])
    older = promoted(user, active=True)
    newer = promoted(user)
    for status in (PersonalModel.Status.KEPT_OLD, PersonalModel.Status.FAILED):
        promoted(user, status=status)
    PersonalModel.objects.create(owner=user, status=PersonalModel.Status.PROMOTED)  # no file
    promoted(other_user)

    response = choose(reviewer_client, NOTES, [note.pk])

    assert response.templates[0].name == "admin/recognition/rerun_with_model.html"
    assert [pk for pk, _ in offered(response)] == ["standard", str(newer.pk), str(older.pk)]
    assert offered(response)[0][1] == STANDARD_LABEL
    assert "what reads the owner's notes now" in dict(offered(response))[str(older.pk)]
    assert response.context["form"].fields["model"].help_text == HELP
    page = response.content.decode()
    assert f"<td>{note.title}</td>" in page and f'value="{note.pk}"' in page
    assert not RecognitionJob.objects.filter(status="queued").exists()
    assert not StaffAction.objects.exists()


def test_notes_of_two_owners_are_offered_only_the_standard_model(
        reviewer_client, user, other_user, make_note):
    mine, theirs = make_note(user, [("one", 0.3)]), make_note(other_user, [("two", 0.3)])
    promoted(user)
    promoted(other_user)

    response = choose(reviewer_client, NOTES, [mine.pk, theirs.pk])

    assert [pk for pk, _ in offered(response)] == ["standard"]
    assert response.context["form"].fields["model"].help_text.endswith(
        HELP_MANY_OWNERS.format(count=2))


def test_the_line_queue_offers_the_versions_of_the_selected_lines_notes(
        reviewer_client, user, make_note):
    note = make_note(user, [("one", 0.3), ("two", 0.4)])
    version = promoted(user)
    line_ids = list(Line.objects.filter(page__note=note).values_list("pk", flat=True))

    response = choose(reviewer_client, LINES, line_ids)

    assert [pk for pk, _ in offered(response)] == ["standard", str(version.pk)]
    assert [n.pk for n in response.context["notes"]] == [note.pk]
    assert response.content.decode().count('name="_selected_action"') == 2  # the lines again


# Runs -------------------------------------------------------------------------------------------

def test_the_standard_model_reads_the_note_though_its_owner_uses_a_personal_one(
        reviewer_client, reviewer, user, photo, django_capture_on_commit_callbacks):
    promoted(user, with_file=True, active=True)
    assert ocr.model_for(user.pk).version.startswith("personal #")
    kept = photo.pages.get().lines.order_by("order").first()
    revisions.lines_update(user=user, note=photo, edits={kept.pk: "mine, corrected"},
                           base_revision=photo.revision)

    with django_capture_on_commit_callbacks(execute=True):  # the run, inline
        response = choose(reviewer_client, NOTES, [photo.pk], model="standard")

    assert messages_of(response) == [RERUN.format(count=1),
                                     READ_WITH.format(model="the standard model")]
    job = photo.jobs.order_by("-created", "-pk").first()
    assert job.status == RecognitionJob.Status.DONE, job.error
    assert (job.model_request, job.requested_model) == ("standard", None)
    assert job.model_version == ocr.model_version() and job.model_version.startswith("crnn.pt")
    assert Line.objects.get(pk=kept.pk).text == "mine, corrected"  # corrections are kept
    entry = StaffAction.objects.get()
    assert (entry.actor, entry.action, entry.target, entry.view, entry.object_ids) == (
        reviewer, "rerun", "recognition.note", VIEW, [photo.pk])
    assert entry.detail == {"queued": [photo.pk], "busy": [], "model": "standard"}


def test_a_personal_version_reads_the_note_though_another_is_in_use(
        reviewer_client, user, photo, django_capture_on_commit_callbacks):
    promoted(user, with_file=True, active=True)
    chosen = promoted(user, with_file=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = choose(reviewer_client, NOTES, [photo.pk], model=str(chosen.pk))

    assert messages_of(response)[-1] == READ_WITH.format(model=chosen.version)
    job = photo.jobs.order_by("-created", "-pk").first()
    assert job.status == RecognitionJob.Status.DONE, job.error
    assert (job.model_request, job.requested_model, job.model_version) == (
        "personal", chosen, chosen.version)
    assert StaffAction.objects.get().detail == {
        "queued": [photo.pk], "busy": [], "model": chosen.version, "personal_model": chosen.pk}


def test_a_chosen_version_that_cannot_be_loaded_fails_the_run_readably(
        user, photo, django_capture_on_commit_callbacks):
    """No quiet fall-back to another model: staff asked for this one."""
    lost = promoted(user)  # its file is not in the storage

    with django_capture_on_commit_callbacks(execute=True):
        job = services.note_recognize(user=user, note=photo, model=lost)

    job.refresh_from_db()
    photo.refresh_from_db()
    expected = ocr.ERROR_REQUESTED_MODEL.format(
        reason=ocr.REASON_UNLOADABLE.format(model=lost.pk))
    assert (job.status, job.error, job.model_version) == ("failed", expected, "")
    assert (photo.status, photo.error) == (Note.Status.FAILED, expected)
    assert photo.pages.get().lines.exists()  # the last reading is still there


def test_busy_notes_are_skipped_and_named(reviewer_client, idle_and_busy,
                                          django_capture_on_commit_callbacks):
    idle, busy = idle_and_busy

    with django_capture_on_commit_callbacks(execute=False):  # queued, not run
        response = choose(reviewer_client, NOTES, [idle.pk, busy.pk], model="standard")

    assert messages_of(response) == [RERUN.format(count=1), BUSY.format(titles="“busy”"),
                                     READ_WITH.format(model="the standard model")]
    queued = idle.jobs.get(status=RecognitionJob.Status.QUEUED)
    assert queued.model_request == RecognitionJob.ModelRequest.STANDARD
    assert busy.jobs.count() == 2 and not busy.jobs.filter(status="queued").exists()
    assert StaffAction.objects.get().detail == {"queued": [idle.pk], "busy": [busy.pk],
                                                "model": "standard"}


def test_a_stalled_run_is_retried_with_the_model_it_asked_for(user, make_note, settings):
    note = make_note(user, [("one", 0.3)])
    old = timezone.now() - dt.timedelta(seconds=settings.NOTES_JOB_STALL_SECONDS + 60)
    RecognitionJob.objects.create(note=note, status="running", started=old, heartbeat=old,
                                  model_request=RecognitionJob.ModelRequest.STANDARD)

    assert runs.job_expire_stale() == 1

    retry = note.jobs.get(status=RecognitionJob.Status.QUEUED)
    assert retry.model_request == RecognitionJob.ModelRequest.STANDARD


# Refusals ---------------------------------------------------------------------------------------

def test_another_owners_model_is_not_offered_and_a_forged_choice_is_refused(
        reviewer_client, user, other_user, make_note):
    note = make_note(user, [("one", 0.3)])
    theirs = promoted(other_user)
    jobs = RecognitionJob.objects.count()

    response = choose(reviewer_client, NOTES, [note.pk], model=str(theirs.pk))

    assert response.templates[0].name == "admin/recognition/rerun_with_model.html"
    assert "Select a valid choice" in response.content.decode()
    assert RecognitionJob.objects.count() == jobs and not StaffAction.objects.exists()


def test_the_service_refuses_to_read_a_note_with_another_owners_model(
        reviewer, user, other_user, make_note):
    mine = make_note(user, [("one", 0.3)], title="Mine")
    also_mine = make_note(user, [("two", 0.3)], title="Also mine")
    theirs = promoted(other_user)
    jobs = RecognitionJob.objects.count()

    with pytest.raises(PersonalModelError) as refused:
        review.notes_recognize(staff=reviewer, note_ids=[mine.pk, also_mine.pk], view=VIEW,
                               model=theirs)
    assert str(refused.value) == services.ERROR_MODEL_NOT_OWNERS.format(model=theirs.pk,
                                                                         note="Mine")
    with pytest.raises(PersonalModelError):
        services.note_recognize(user=user, note=mine, model=theirs)
    assert RecognitionJob.objects.count() == jobs  # not one of the notes was queued
    assert not StaffAction.objects.exists()
    assert set(Note.objects.values_list("status", flat=True)) == {"done"}


def test_the_service_refuses_a_version_that_was_not_promoted(user, make_note):
    note = make_note(user, [("one", 0.3)])
    kept_old = promoted(user, status=PersonalModel.Status.KEPT_OLD)
    jobs = RecognitionJob.objects.count()

    with pytest.raises(PersonalModelError) as refused:
        services.note_recognize(user=user, note=note, model=kept_old)

    assert str(refused.value) == services.ERROR_MODEL_NOT_PROMOTED.format(model=kept_old.pk)
    assert RecognitionJob.objects.count() == jobs


def test_non_staff_get_nothing(alice_client, user, make_note):
    note = make_note(user, [("one", 0.3)])
    jobs = RecognitionJob.objects.count()

    for model in (None, "standard"):
        response = alice_client.post(NOTES, {"action": ACTION, "_selected_action": [note.pk],
                                             "model": model or "", "apply": "1"})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    assert RecognitionJob.objects.count() == jobs and not StaffAction.objects.exists()


def test_staff_without_the_rerun_right_are_not_offered_the_action(client, user, make_note):
    note = make_note(user, [("one", 0.3)])
    viewer = UserFactory(username="vera", is_staff=True)
    reviewers = Group.objects.get(name="Reviewers")
    viewer.user_permissions.add(*reviewers.permissions.exclude(codename="rerun_recognition"))
    client.force_login(viewer)
    jobs = RecognitionJob.objects.count()

    assert ACTION not in dict(client.get(NOTES).context["action_form"].fields["action"].choices)
    response = choose(client, NOTES, [note.pk], model="standard")

    assert response.templates[0].name != "admin/recognition/rerun_with_model.html"
    assert RecognitionJob.objects.count() == jobs and not StaffAction.objects.exists()
