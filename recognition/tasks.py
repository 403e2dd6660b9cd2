"""django-q2 tasks: take ids, call a service; the only place that catches every exception."""

from __future__ import annotations

import logging
import time

from django.db import InterfaceError, OperationalError, close_old_connections

from recognition import runs
from recognition.personal import training

logger = logging.getLogger(__name__)

# Seconds to wait before each new try of a run that lost its database connection: a database
# restart or fail-over takes seconds, and a user's note should not fail for it.
DATABASE_RETRY_PAUSES = (2, 5, 15)


def recognize_note(job_id: int) -> None:
    """Run recognition; any failure is recorded on the job and note, not raised.

    Not raising acknowledges the task, so the broker re-delivers it only when a worker died
    mid-way (a crash is retried; a page that cannot be read is not read again and again). A
    lost database connection is tried again a few times (runs are idempotent) before it counts
    as a failure; if recording the failure fails too, the stall check fails the job later.
    """
    for pause in (*DATABASE_RETRY_PAUSES, None):
        try:
            runs.recognition_run(job_id=job_id)
        except runs.RunSuperseded as stop:  # failed as stalled, or retried: its new run goes on
            logger.warning("Recognition job %s stopped: %s", job_id, stop)
        except (OperationalError, InterfaceError) as err:
            if pause is None:
                _fail(job_id, err)
            else:
                logger.warning("Recognition job %s lost the database (%s); again in %s s",
                               job_id, err, pause)
                close_old_connections()
                time.sleep(pause)
                continue
        except Exception as err:  # the task boundary: log it, tell the user, keep the worker
            _fail(job_id, err)
        return


def _fail(job_id: int, err: Exception) -> None:
    logger.exception("Recognition job %s failed", job_id, exc_info=err)
    try:
        runs.recognition_fail(job_id=job_id, error=err)
    except (OperationalError, InterfaceError):
        logger.exception("Could not record the failure of job %s; the stall check will",
                         job_id)


def recognize_image(name: str, detail: bool, user_id: int | None = None) -> dict:
    """Instant recognition (the `instant` cluster): the result, or {"error": message}; the
    request waiting for it turns an error into its answer. `user_id` picks their model; a task
    queued without one (before a deploy) reads with the site's."""
    try:
        return runs.image_read(name=name, detail=detail, user_id=user_id)
    except Exception as err:  # the task boundary
        logger.exception("Instant recognition of %s failed", name)
        return {"error": runs.error_message(err)}


def expire_stale_jobs() -> int:
    """Scheduled: fail the jobs that the broker gave up on, so no note waits forever."""
    return runs.job_expire_stale()


def train_personal_model(model_id: int) -> None:
    """Fine-tune a user's recognizer (the `training` cluster); failures are recorded on it."""
    try:
        training.personal_model_fine_tune(model_id=model_id)
    except Exception as err:  # the task boundary
        logger.exception("Personal model %s failed", model_id)
        training.personal_model_fail(model_id=model_id, error=err)
