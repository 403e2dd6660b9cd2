"""A missing or damaged model file is reported when a process starts, not discovered by users."""

import logging
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from recognition import ocr
from recognition.checks import model_files_check
from recognition.models import Note
from recognition.worker import worker_started


@pytest.fixture
def damaged_model(settings, tmp_path):
    """A copy of the committed model cut short, as an interrupted copy or upload leaves it."""
    path = tmp_path / "crnn.pt"
    path.write_bytes(settings.NOTES_MODEL_PATH.read_bytes()[:300_000])
    shutil.copy(settings.NOTES_MODEL_PATH.with_name("charlm.json.gz"), tmp_path)
    settings.NOTES_MODEL_PATH = path
    ocr._recognizer.cache_clear()
    yield path
    ocr._recognizer.cache_clear()


def test_the_committed_model_files_pass():
    assert model_files_check() == []


def test_a_missing_model_stops_the_start(settings, tmp_path):
    settings.NOTES_MODEL_PATH = tmp_path / "gone.pt"
    [error] = model_files_check()
    assert error.id == "recognition.E001" and "does not exist" in error.msg
    with pytest.raises(SystemCheckError, match="gone.pt does not exist"):
        call_command("check")


def test_a_damaged_model_stops_the_start(damaged_model):
    [error] = model_files_check()
    assert str(damaged_model) in error.msg and "not a model file" in error.msg
    with pytest.raises(SystemCheckError, match="not a model file"):
        call_command("check")


def test_a_worker_says_so_when_it_starts_and_jobs_fail_readably(
        damaged_model, caplog, user, jpeg_upload, django_capture_on_commit_callbacks):
    from recognition import services

    with caplog.at_level(logging.ERROR, logger="recognition.worker"):
        worker_started(sender="django_q", proc_name="Process-1")
    assert "cannot load the recognizer" in caplog.text and str(damaged_model) in caplog.text

    with django_capture_on_commit_callbacks(execute=True):
        [note] = services.note_upload(user=user, files=[jpeg_upload()])
    note.refresh_from_db()
    assert note.status == Note.Status.FAILED
    assert note.error.startswith("Recognition failed unexpectedly (CheckpointError)")
    assert str(damaged_model) not in note.error


def test_a_worker_loads_the_model_when_it_starts(caplog):
    ocr._recognizer.cache_clear()
    with caplog.at_level(logging.INFO, logger="recognition.worker"):
        worker_started(sender="django_q", proc_name="Process-1")
    assert "loaded crnn.pt" in caplog.text
    assert ocr._recognizer.cache_info().currsize == 1
