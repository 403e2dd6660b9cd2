"""Personal models: a user's recognizer, fine-tuned on the lines they corrected.

Services and selectors the web processes use (no engine import): start a fine-tune (on
request, or by itself after enough new corrections), choose which version reads the user's
notes (or go back to the site's model), list the versions. The fine-tune itself runs in the
`training` cluster (recognition/personal/training.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from recognition.exceptions import NoteBusyError, PersonalModelBusy, PersonalModelError
from recognition.models import Line, Note, PersonalModel
from recognition.selectors import note_last_model_version
from recognition.services import note_recognize

logger = logging.getLogger(__name__)

CLUSTER = "training"
TASK = "recognition.tasks.train_personal_model"
ERROR_TOO_FEW = ("Your model learns from lines you corrected on their page image: it needs at "
                 "least {needed}, and you have {have} so far.")
ERROR_BUSY = "Your model is already being trained; it takes about {minutes:g} minutes."
ERROR_NOT_QUEUED = "Training could not be queued (the task queue is unreachable); try again later."
ERROR_NOT_USABLE = "Only a model that came out better than the one before it can be used."
ERROR_NO_MODEL = "You have no model of your own yet: your notes are read with the standard one."
ERROR_LOST = "Training did not finish (the worker stopped); start it again."
# How often (seconds) an edit may look whether a new fine-tune is due: a count per user.
CHECK_EVERY = 60


def training_lines(*, user=None) -> QuerySet[Line]:
    """The lines that teach: corrected by a person, with text, and with a region on the page
    (a line typed in without a region has no image to learn from)."""
    lines = (Line.objects.filter(corrected=True).exclude(text="").exclude(polygon=[])
             .select_related("page__note__owner"))
    if user is not None:
        lines = lines.filter(page__note__owner=user)
    return lines.order_by("page__note__owner_id", "page__note_id", "page__number", "order")


def corrections_count(*, user) -> int:
    return training_lines(user=user).order_by().count()


def personal_model_list(*, user) -> QuerySet[PersonalModel]:
    return PersonalModel.objects.filter(owner=user).select_related("parent")


def personal_model_active(*, user_id: int) -> PersonalModel | None:
    """The version that reads this user's notes; None: the site's model."""
    return PersonalModel.objects.filter(owner_id=user_id, active=True).first()


@dataclass(frozen=True)
class PersonalModelSummary:
    active: PersonalModel | None  # None: the site's model reads the user's notes
    training: PersonalModel | None  # queued or training now
    corrected_lines: int
    lines_needed: int  # before a fine-tune can start (0: it can)


def personal_model_summary(*, user) -> PersonalModelSummary:
    personal_models_expire_stale()
    have = corrections_count(user=user)
    mine = PersonalModel.objects.filter(owner=user)
    return PersonalModelSummary(
        active=mine.filter(active=True).first(),
        training=mine.filter(status__in=PersonalModel.ACTIVE).first(),
        corrected_lines=have,
        lines_needed=max(0, settings.NOTES_PERSONAL_MODEL_MIN_LINES - have))


def personal_model_train(*, user, reason: str = "On request") -> PersonalModel:
    """Queue a fine-tune of the user's current model on their corrected lines."""
    personal_models_expire_stale()
    have = corrections_count(user=user)
    needed = settings.NOTES_PERSONAL_MODEL_MIN_LINES
    if have < needed:
        raise PersonalModelError(ERROR_TOO_FEW.format(needed=needed, have=have))
    parent = personal_model_active(user_id=user.pk)
    try:
        with transaction.atomic():
            model = PersonalModel.objects.create(
                owner=user, parent=parent, reason=reason[:200], corrections=have,
                base_version=parent.version if parent else settings.NOTES_MODEL_PATH.name)
    except IntegrityError:  # one_personal_training_at_a_time
        raise PersonalModelBusy(
            ERROR_BUSY.format(minutes=settings.NOTES_PERSONAL_MODEL_MINUTES)) from None

    def enqueue():
        try:
            async_task(TASK, model.pk, cluster=CLUSTER,
                       task_name=f"personal-model-{user.pk}-{model.pk}")
        except Exception:  # noqa: BLE001 - any broker failure means the same to the user
            logger.exception("Could not queue personal model %s", model.pk)
            PersonalModel.objects.filter(pk=model.pk, status=PersonalModel.Status.QUEUED).update(
                status=PersonalModel.Status.FAILED, message=ERROR_NOT_QUEUED,
                finished=timezone.now())

    transaction.on_commit(enqueue)
    return model


def personal_model_maybe_train(*, user_id: int) -> PersonalModel | None:
    """Start a fine-tune by itself when the user corrected NOTES_PERSONAL_MODEL_EVERY lines
    since the last one; cheap to call after every edit (it counts at most once a minute)."""
    every = settings.NOTES_PERSONAL_MODEL_EVERY
    if every <= 0 or not cache.add(f"personal-model-check:{user_id}", 1, CHECK_EVERY):
        return None
    mine = PersonalModel.objects.filter(owner_id=user_id)
    if mine.filter(status__in=PersonalModel.ACTIVE).exists():
        return None
    last = (mine.exclude(status=PersonalModel.Status.FAILED)
            .values_list("corrections", flat=True).first()) or 0
    user = get_user_model().objects.get(pk=user_id)
    have = corrections_count(user=user)
    if have - last < every or have < settings.NOTES_PERSONAL_MODEL_MIN_LINES:
        return None
    try:
        return personal_model_train(user=user,
                                    reason=f"Automatic: {have - last} new corrected lines")
    except PersonalModelError:  # raced with a request: that one trains
        return None


def personal_model_check_after_edit(user_id: int) -> None:
    """After a person's edit commits: start a fine-tune if one is due. An edit is saved
    already, so nothing here may fail it."""
    try:
        personal_model_maybe_train(user_id=user_id)
    except Exception:  # noqa: BLE001 - the next edit looks again
        logger.exception("Could not check whether user %s's model is due for training", user_id)


def outdated_notes(*, user, version: str) -> QuerySet[Note]:
    """The user's finished notes whose last recognition was by another model than `version`."""
    notes = Note.objects.filter(owner=user).exclude(
        status__in=[Note.Status.QUEUED, Note.Status.PROCESSING])
    # Notes no model ever read (imported transcriptions) stay as they are.
    return (notes.annotate(last_version=note_last_model_version())
            .filter(last_version__isnull=False).exclude(last_version=version))


def personal_model_reread(*, user) -> int:
    """Queue the user's notes read by another model than their personal one, to be read
    with it (lines they corrected keep their text). Returns how many were queued."""
    model = personal_model_active(user_id=user.pk)
    if model is None:
        raise PersonalModelError(ERROR_NO_MODEL)
    queued = 0
    for note in outdated_notes(user=user, version=model.version).iterator():
        try:
            note_recognize(user=user, note=note)
        except NoteBusyError:  # being read already
            continue
        queued += 1
    return queued


@transaction.atomic
def personal_model_use(*, user, model: PersonalModel | None) -> PersonalModel | None:
    """Read the user's next notes with `model` (one of their promoted versions), or with the
    site's model when None: a rollback is choosing an earlier version, or none."""
    if model is not None and (model.owner_id != user.pk or not model.reads_notes):
        raise PersonalModelError(ERROR_NOT_USABLE)
    PersonalModel.objects.filter(owner=user, active=True).update(active=False)
    if model is not None:
        PersonalModel.objects.filter(pk=model.pk).update(active=True)
        model.active = True
    return model


def personal_models_expire_stale(now: dt.datetime | None = None) -> int:
    """Fail fine-tunes whose worker died (training longer than the training cluster's timeout)
    or that never started (queued for NOTES_JOB_QUEUE_HOURS). Returns how many."""
    now = now or timezone.now()
    running = now - dt.timedelta(seconds=settings.Q_CLUSTER["ALT_CLUSTERS"][CLUSTER]["retry"])
    waiting = now - dt.timedelta(hours=settings.NOTES_JOB_QUEUE_HOURS)
    stale = (Q(status=PersonalModel.Status.TRAINING, started__lt=running)
             | Q(status=PersonalModel.Status.QUEUED, created__lt=waiting))
    return PersonalModel.objects.filter(stale).update(
        status=PersonalModel.Status.FAILED, message=ERROR_LOST, finished=now)
