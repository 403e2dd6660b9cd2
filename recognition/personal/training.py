"""Fine-tuning a user's recognizer on their corrections, in the `training` cluster.

Only the training worker imports this module (through `tasks`); it imports the engine. The
user's corrected lines are cut from their page images (`training_data`), a fifth of them (whole
pages) held out; the model that reads their notes now is fine-tuned on the rest with the
recipe of `ml.finetune`, and both are read on the held-out lines. The new model is kept, and
reads the user's next notes, only if it makes fewer errors there; otherwise the old one stays
and the user is told why.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from ml.finetune import FineTuneRecipe, fine_tune
from recognition import ocr
from recognition.models import PersonalModel
from recognition.training_data import training_data_export

logger = logging.getLogger(__name__)

HELD_OUT_SHARE = 0.2
MIN_HELD_OUT = 5  # lines: below that, a measured "better" is noise
ERROR_FEW_PAGES = ("Your corrected lines come from too few pages to keep some aside for "
                   "measuring ({held} held out, {train} to learn from); correct lines on a few "
                   "more pages and try again.")
ERROR_UNEXPECTED = "Training failed unexpectedly ({kind}); start it again later."


def personal_model_fine_tune(*, model_id: int) -> None:
    """Train the queued personal model; record the outcome (promoted, old kept, failed)."""
    model = _claim(model_id)
    if model is None:
        return
    start = _start_file(model)
    with tempfile.TemporaryDirectory(prefix=f"personal-{model.pk}-") as scratch:
        folder = Path(scratch)
        export = training_data_export(out=folder / "data", user=model.owner,
                                      held_out_share=HELD_OUT_SHARE)
        if export.val < MIN_HELD_OUT or export.train < MIN_HELD_OUT:
            _finish(model, PersonalModel.Status.FAILED,
                    ERROR_FEW_PAGES.format(held=export.val, train=export.train))
            return
        recipe = FineTuneRecipe(minutes=settings.NOTES_PERSONAL_MODEL_MINUTES,
                                threads=settings.NOTES_PERSONAL_MODEL_THREADS, workers=0)
        result = fine_tune(
            init=start, train=folder / "data" / "train.tsv", held_out=folder / "data" / "val.tsv",
            out=folder / "model.pt", recipe=recipe, fonts=settings.NOTES_FONTS_DIR,
            replay=settings.NOTES_REPLAY_MANIFEST or None,
            lm=settings.NOTES_MODEL_PATH.with_name(ocr.LM_FILE_NAME))
        model.train_lines, model.held_out_lines = result.train_lines, result.held_out_lines
        model.cer_before, model.cer_after = result.base_cer, result.cer
        model.training_seconds = result.seconds
        outcome = (f"On {result.held_out_lines} of your lines it did not learn from: "
                   f"{model.outcome} of characters wrong")
        if not result.improved:
            _finish(model, PersonalModel.Status.KEPT_OLD,
                    f"{outcome}; not better, so your notes are still read as before.")
            return
        with open(folder / "model.pt", "rb") as f:
            model.file = default_storage.save(f"personal-models/{model.owner_id}/{model.pk}.pt",
                                              File(f))
    _finish(model, PersonalModel.Status.PROMOTED,
            f"{outcome}. Your next notes are read with it.", promote=True)


def _claim(model_id: int) -> PersonalModel | None:
    with transaction.atomic():
        model = (PersonalModel.objects.select_for_update(of=("self",))
                 .select_related("owner", "parent")
                 .filter(pk=model_id, status=PersonalModel.Status.QUEUED).first())
        if model is None:
            logger.warning("Personal model %s is not queued: not trained", model_id)
            return None
        model.status, model.started = PersonalModel.Status.TRAINING, timezone.now()
        model.save(update_fields=["status", "started"])
    return model


def _start_file(model: PersonalModel) -> Path:
    """The model to fine-tune: the one the user's notes were read with when it was queued."""
    parent = model.parent
    if parent is not None and parent.file:
        return ocr.personal_model_path(parent)
    model.parent = None
    model.base_version = ocr.model_version()
    model.save(update_fields=["parent", "base_version"])
    return settings.NOTES_MODEL_PATH


def _finish(model: PersonalModel, status: str, message: str, *, promote: bool = False) -> None:
    with transaction.atomic():
        if promote:
            PersonalModel.objects.filter(owner_id=model.owner_id, active=True).update(
                active=False)
        model.status, model.message, model.finished = status, message[:1000], timezone.now()
        model.active = promote
        model.save()
    logger.info("Personal model %s of user %s: %s", model.pk, model.owner_id, message)


def personal_model_fail(*, model_id: int, error: Exception) -> None:
    """Record a fine-tune that raised (the task boundary calls this)."""
    PersonalModel.objects.filter(pk=model_id, status__in=PersonalModel.ACTIVE).update(
        status=PersonalModel.Status.FAILED, finished=timezone.now(),
        message=ERROR_UNEXPECTED.format(kind=type(error).__name__))
