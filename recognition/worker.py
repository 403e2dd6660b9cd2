"""What a django-q2 worker process does when it starts: load the recognizer and the line
segmenter before the first task, so the first page is not slowed by it and a model that cannot
be loaded is reported in the worker's log the moment it starts (its jobs then fail readably)."""

from __future__ import annotations

import logging
import os

logger = logging.getLogger(__name__)


def worker_started(sender, proc_name: str = "", **kwargs) -> None:
    if os.environ.get("Q_CLUSTER_NAME") == "training":
        return  # fine-tunes load the models they train, when they start
    from ml.api import MLError
    from ml.page.segmenter import default_segmenter
    from recognition import ocr

    try:
        ocr.recognizer()
        default_segmenter()
    except (MLError, OSError, RuntimeError) as err:
        logger.error("Worker %s cannot load the recognizer: %s. Its recognition jobs will fail "
                     "until the model file is fixed (NOTES_MODEL_PATH).", proc_name, err)
    else:
        logger.info("Worker %s loaded %s", proc_name, ocr.model_version())
