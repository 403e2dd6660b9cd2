"""Corrections become training data: every editing path marks its lines, the export writes
line images and manifests, and the engine reads them back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image
from rest_framework.test import APIClient

from ml.manifest import read_manifest
from recognition import imports, revisions, services
from recognition.models import Line, Note
from recognition.training_data import training_data_export, training_lines
from tests.recognition.exports.conftest import jpeg
from tests.recognition.exports.test_import import alto, xml_upload

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def imported(user, synthetic_pages):
    """A transcription imported with its page image: every line a person's."""
    page = synthetic_pages[0]
    lines = [(line.text, line.bbox) for line in page.lines]
    return imports.note_import(user=user, xml_file=xml_upload(alto(lines)),
                               image_file=SimpleUploadedFile("page.jpg", jpeg(page.image)))


@pytest.fixture
def recognized(user, jpeg_upload, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        [note] = services.note_upload(user=user, files=[jpeg_upload()])
    note.refresh_from_db()
    assert note.status == Note.Status.DONE
    return note


def test_every_editing_path_marks_training_examples(user, imported, recognized):
    first, second = Line.objects.filter(page__note=recognized).exclude(polygon=[])[:2]
    assert training_lines(user=user).filter(page__note=recognized).count() == 0  # machine's

    revisions.lines_update(user=user, note=recognized, edits={first.pk: "web correction"},
                           base_revision=recognized.revision)  # the note page's service
    recognized.refresh_from_db()
    api = APIClient()
    api.force_authenticate(user)
    response = api.patch(f"/api/v1/lines/{second.pk}/",
                         {"text": "api correction", "revision": recognized.revision},
                         format="json")
    assert response.status_code == 200, response.json()

    texts = set(training_lines(user=user).values_list("text", flat=True))
    assert {"web correction", "api correction"} <= texts
    assert training_lines(user=user).filter(page__note=imported).count() == \
        Line.objects.filter(page__note=imported).count()


def test_export_round_trip_through_the_engine(user, imported, tmp_path):
    revisions_lines = Line.objects.filter(page__note=imported).count()
    Line.objects.create(page=imported.pages.get(), order=99, polygon=[], text="typed, no region",
                        corrected=True)

    summary = training_data_export(out=tmp_path, user=user, val_percent=0)

    assert (summary.train, summary.val, summary.skipped) == (revisions_lines, 0, 0)
    assert summary.users == {user.username: revisions_lines}
    entries = read_manifest(tmp_path / "train.tsv")
    assert read_manifest(tmp_path / "val.tsv") == []
    stored = dict(Line.objects.filter(page__note=imported).values_list("pk", "text"))
    for entry in entries:
        line_id = int(entry.image.stem.rsplit("-", 1)[1])
        assert entry.text == stored[line_id]
        with Image.open(entry.image) as image:
            assert image.mode == "L" and image.height >= 10 and image.width > image.height
    assert json.loads((tmp_path / "export.json").read_text())["train"] == revisions_lines

    # The engine reads the manifest as it reads its own: these crops are lines it can read.
    result = subprocess.run([sys.executable, "-m", "ml.evaluate", str(tmp_path / "train.tsv"),
                             "--no-lm", "--no-progress"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    assert metrics["lines"] == revisions_lines and metrics["cer"] < 0.35


def test_pages_stay_whole_in_one_split(user, imported, tmp_path):
    summary = training_data_export(out=tmp_path, val_percent=100)
    assert summary.train == 0 and summary.val == Line.objects.filter(page__note=imported).count()


def test_export_of_one_user_leaves_the_others_out(user, other_user, imported, tmp_path):
    call_command("export_training_data", "--out", str(tmp_path / "bob"), "--user",
                 other_user.username)
    assert read_manifest(tmp_path / "bob" / "train.tsv") == []
    assert read_manifest(tmp_path / "bob" / "val.tsv") == []


def test_the_command_refuses_an_unknown_user_and_a_used_folder(user, imported, tmp_path):
    with pytest.raises(CommandError, match="No user"):
        call_command("export_training_data", "--out", str(tmp_path / "x"), "--user", "nobody")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "train.tsv").write_text("")
    with pytest.raises(CommandError, match="not empty"):
        call_command("export_training_data", "--out", str(tmp_path / "used"))
