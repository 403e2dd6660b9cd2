"""django-q2 tasks: take ids, call a service; the only place that catches every exception."""

from __future__ import annotations

import logging

from recognition import runs

logger = logging.getLogger(__name__)


def recognize_note(job_id: int) -> None:
    """Run recognition; any failure is recorded on the job and note, not raised.

    Not raising acknowledges the task, so the broker re-delivers it only when a worker died
    mid-way (a crash is retried; a page that cannot be read is not read again and again).
    """
    try:
        runs.recognition_run(job_id=job_id)
    except runs.RunSuperseded as stop:  # failed as stalled, or retried: its new run goes on
        logger.warning("Recognition job %s stopped: %s", job_id, stop)
    except Exception as err:  # the task boundary: log it, tell the user, keep the worker
        logger.exception("Recognition job %s failed", job_id)
        runs.recognition_fail(job_id=job_id, error=err)


def recognize_image(name: str, detail: bool) -> dict:
    """Instant recognition (the `instant` cluster): the result, or {"error": message}; the
    request waiting for it turns an error into its answer."""
    try:
        return runs.image_read(name=name, detail=detail)
    except Exception as err:  # the task boundary
        logger.exception("Instant recognition of %s failed", name)
        return {"error": runs.error_message(err)}


def expire_stale_jobs() -> int:
    """Scheduled: fail the jobs that the broker gave up on, so no note waits forever."""
    return runs.job_expire_stale()
