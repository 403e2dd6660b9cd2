"""The only door to the engine (`ml`): one recognizer per worker process, readable errors."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache, lru_cache

import torch
from django.conf import settings
from PIL import Image

from ml.api import (
    MLError,
    PageBudget,
    PageResult,
    Recognizer,
    load_recognizer,
    recognize_page,
)
from recognition.exceptions import RecognitionError

logger = logging.getLogger(__name__)

ERROR_UNREADABLE_PAGE = "Page {number} could not be read: {reason}"


@lru_cache(maxsize=2)
def _recognizer(path: str) -> Recognizer:
    torch.set_num_threads(settings.NOTES_MODEL_THREADS)
    logger.info("Loading the recognizer from %s", path)
    return load_recognizer(path)


def recognizer() -> Recognizer:
    """The configured model, loaded once per process (a worker reuses it for every task)."""
    return _recognizer(str(settings.NOTES_MODEL_PATH))


def model_version() -> str:
    meta = recognizer().metadata
    return f"{settings.NOTES_MODEL_PATH.name} {meta.get('created', '')}".strip()[:100]


def page_budget() -> PageBudget:
    """What one page may cost (NOTES_PAGE_SECONDS); the engine's defaults otherwise."""
    return PageBudget(seconds=settings.NOTES_PAGE_SECONDS)


def read_page_image(image: Image.Image, number: int) -> PageResult:
    """Segment and recognize one page image within the page budget; ML failures become
    RecognitionError. A page that runs out of time comes back `partial`, its remaining lines
    located but not read."""
    try:
        return recognize_page(recognizer(), image, budget=page_budget())
    except MLError as err:
        raise RecognitionError(ERROR_UNREADABLE_PAGE.format(number=number, reason=err)) from err


@cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    return getattr(libc, "malloc_trim", None)  # glibc only


def release_memory() -> None:
    """Hand freed heap back to the system after a page.

    A page allocates and frees tens of megabytes of arrays of a size that differs from page to
    page; glibc keeps such freed memory in its arenas, so a long-lived worker's resident size
    creeps up page after page unless it is trimmed.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
