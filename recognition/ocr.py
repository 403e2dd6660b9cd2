"""The only door to the engine (`ml`): one recognizer per worker process, readable errors."""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
from django.conf import settings
from django.core.files.storage import default_storage
from PIL import Image

from ml.api import (
    LM_FILE_NAME,
    MLError,
    PageBudget,
    PageResult,
    Recognizer,
    load_recognizer,
    recognize_page,
)
from ml.memory import release_memory  # noqa: F401  (runs.py trims after every page)
from recognition.exceptions import RecognitionError
from recognition.models import PersonalModel, RecognitionJob

logger = logging.getLogger(__name__)

ERROR_UNREADABLE_PAGE = "Page {number} could not be read: {reason}"
# A run that asked for one personal version and cannot have it (`model_requested`).
ERROR_REQUESTED_MODEL = ("The personal model chosen to read this note cannot be used ({reason}); "
                         "recognize it again with another model.")
REASON_DELETED = "it was deleted"
REASON_NOT_OWNERS = "it is not the note owner's"
REASON_UNLOADABLE = "model {model}'s file is missing or damaged"


@lru_cache(maxsize=4)
def _recognizer(path: str, lm_path: str) -> Recognizer:
    torch.set_num_threads(settings.NOTES_MODEL_THREADS)
    logger.info("Loading the recognizer from %s", path)
    return load_recognizer(path, lm_path=lm_path)


def _lm_path() -> str:
    # Personal models are read with the site model's language model: they learn a hand, not
    # a language.
    return str(settings.NOTES_MODEL_PATH.with_name(LM_FILE_NAME))


def recognizer() -> Recognizer:
    """The configured model, loaded once per process (a worker reuses it for every task)."""
    return _recognizer(str(settings.NOTES_MODEL_PATH), _lm_path())


def model_version() -> str:
    meta = recognizer().metadata
    return f"{settings.NOTES_MODEL_PATH.name} {meta.get('created', '')}".strip()[:100]


@dataclass(frozen=True)
class ModelChoice:
    """The recognizer that reads one user's notes, and how jobs name it."""

    recognizer: Recognizer
    version: str


def model_for(owner_id: int | None) -> ModelChoice:
    """The user's personal model when they use one, else the site's; loaded once per process.

    A personal model that cannot be loaded (file lost from the storage, damaged) is logged and
    the site's model reads instead: the user's notes are read, if less well.
    """
    personal = (PersonalModel.objects.filter(owner_id=owner_id, active=True).first()
                if owner_id is not None else None)
    if personal is not None:
        try:
            return ModelChoice(_recognizer(str(personal_model_path(personal)), _lm_path()),
                               personal.version)
        except (MLError, OSError) as err:
            logger.error("Personal model %s cannot be loaded (%s); reading with the site's model",
                         personal.pk, err)
    return ModelChoice(recognizer(), model_version())


def model_requested(*, owner_id: int, request: str,
                    personal: PersonalModel | None) -> ModelChoice:
    """The model a job asked for (`RecognitionJob.model_request`): the owner's (`model_for`),
    the site's, or one personal version.

    A requested personal version that cannot be loaded (deleted since, file lost, damaged)
    raises RecognitionError instead of falling back as `model_for` does: staff asked for that
    version to compare it, and a note quietly read by another model would mislead them. The
    job fails with the reason; they can choose again.
    """
    if request == RecognitionJob.ModelRequest.STANDARD:
        return ModelChoice(recognizer(), model_version())
    if request != RecognitionJob.ModelRequest.PERSONAL:
        return model_for(owner_id)
    if personal is None:
        raise RecognitionError(ERROR_REQUESTED_MODEL.format(reason=REASON_DELETED))
    if personal.owner_id != owner_id:  # checked when queued; a last guard against mixing hands
        raise RecognitionError(ERROR_REQUESTED_MODEL.format(reason=REASON_NOT_OWNERS))
    try:
        return ModelChoice(_recognizer(str(personal_model_path(personal)), _lm_path()),
                           personal.version)
    except (MLError, OSError) as err:
        logger.error("Requested personal model %s cannot be loaded: %s", personal.pk, err)
        raise RecognitionError(ERROR_REQUESTED_MODEL.format(
            reason=REASON_UNLOADABLE.format(model=personal.pk))) from err


def personal_model_path(model: PersonalModel) -> Path:
    """A local file of a personal model: the stored file itself on a local storage, else a
    copy fetched once into NOTES_DATA_DIR/model-cache (S3 and the like)."""
    try:
        return Path(default_storage.path(model.file))
    except NotImplementedError:
        local = settings.DATA_DIR / "model-cache" / model.file
        if not local.exists():
            local.parent.mkdir(parents=True, exist_ok=True)
            partial = local.with_name(local.name + f".{os.getpid()}.part")
            with default_storage.open(model.file, "rb") as source, open(partial, "wb") as out:
                shutil.copyfileobj(source, out)
            os.replace(partial, local)
        return local


def page_budget() -> PageBudget:
    """What one page may cost (NOTES_PAGE_SECONDS); the engine's defaults otherwise."""
    return PageBudget(seconds=settings.NOTES_PAGE_SECONDS)


def read_page_image(image: Image.Image, number: int,
                    reader: Recognizer | None = None) -> PageResult:
    """Segment and recognize one page image within the page budget (with `reader`, default
    the site's model); ML failures become RecognitionError. A page that runs out of time
    comes back `partial`, its remaining lines located but not read."""
    try:
        return recognize_page(reader or recognizer(), image, budget=page_budget())
    except MLError as err:
        raise RecognitionError(ERROR_UNREADABLE_PAGE.format(number=number, reason=err)) from err
