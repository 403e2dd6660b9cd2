"""End to end through a real django-q2 cluster: upload in this process, recognition in a
`manage.py qcluster` process, both on the test database through the ORM broker."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection
from django_q.conf import Conf

from recognition import services
from recognition.models import Note

ROOT = Path(__file__).resolve().parents[1]
DEADLINE_S = 240


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (f"postgres://{db['USER']}{password}@{db.get('HOST') or 'localhost'}:"
            f"{db.get('PORT') or 5432}/{db['NAME']}")


@contextmanager
def running_cluster(env: dict, log_path: Path):
    """A `manage.py qcluster` process for the test database, stopped (and its log shown by
    pytest when the test failed) at the end."""
    log = log_path.open("w+")
    process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)  # the cluster stops its own workers
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.seek(0)
        print(log.read()[-4000:])


@pytest.fixture
def qcluster(transactional_db, media_root, monkeypatch, tmp_path):
    """A worker cluster with one worker; tasks from this process go to it, not inline."""
    monkeypatch.setattr(Conf, "SYNC", False)
    env = {**os.environ, "DATABASE_URL": database_url(), "NOTES_MEDIA_ROOT": str(media_root),
           "NOTES_Q_SYNC": "0", "NOTES_WORKERS": "1", "NOTES_DATA_DIR": str(tmp_path)}
    with running_cluster(env, tmp_path / "qcluster.log") as process:
        yield process


def wait_for(notes: list[Note], process) -> list[Note]:
    start = time.monotonic()
    while time.monotonic() - start < DEADLINE_S:
        assert process.poll() is None, "qcluster exited"
        fresh = [Note.objects.get(pk=n.pk) for n in notes]
        if not any(n.is_active for n in fresh):
            return fresh
        time.sleep(0.5)
    raise AssertionError(f"recognition did not finish in {DEADLINE_S} s")


@pytest.mark.slow
def test_uploads_are_recognized_by_a_real_worker(qcluster, user, jpeg_upload, pdf_upload):
    notes = services.note_upload(user=user, files=[jpeg_upload(), pdf_upload(pages=2)])
    assert all(Note.objects.get(pk=n.pk).status == Note.Status.QUEUED for n in notes)

    photo, pdf = wait_for(notes, qcluster)

    for note in (photo, pdf):
        assert note.status == Note.Status.DONE, note.error
        assert note.pages_done == note.pages_total and note.text.strip()
        assert note.jobs.get().attempts == 1
    assert pdf.pages.count() == 2
    assert all(page.lines.exists() for page in pdf.pages.all())
