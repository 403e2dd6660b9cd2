"""Instant recognition (POST /api/v1/recognize/) reads with the model that reads the user's
notes: their personal model while they use one, the standard model otherwise. The site's model
here is a tiny untrained one that reads nothing; the personal one is a copy of the committed
model, which reads the test page."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from ml.charset import DEFAULT_CHARSET
from ml.checkpoint import save_model
from ml.model import CRNN
from recognition.models import PersonalModel
from tests.conftest import encode
from tests.ml.conftest import TINY_MODEL

WEIGHTS = Path(__file__).resolve().parents[2] / "ml" / "weights"


@pytest.fixture
def untrained_site_model(settings, tmp_path):
    """The site's model reads nothing: an untrained tiny one, with the site's LM beside it."""
    shutil.copy(WEIGHTS / "charlm.json.gz", tmp_path)
    torch.manual_seed(0)
    save_model(tmp_path / "untrained.pt", CRNN(TINY_MODEL), DEFAULT_CHARSET, {"purpose": "tests"})
    settings.NOTES_MODEL_PATH = tmp_path / "untrained.pt"


def personal_reader(owner) -> PersonalModel:
    """A promoted personal model of `owner`, in use: a copy of the committed model."""
    model = PersonalModel.objects.create(owner=owner, status=PersonalModel.Status.PROMOTED,
                                         base_version="untrained.pt")
    with open(WEIGHTS / "crnn.pt", "rb") as source:
        model.file = default_storage.save(f"personal-models/{owner.pk}/{model.pk}.pt",
                                          File(source))
    model.active = True
    model.save(update_fields=["file", "active"])
    return model


def recognize(user, page_image) -> dict:
    api = APIClient()
    api.force_authenticate(user)
    response = api.post("/api/v1/recognize/", {"file": SimpleUploadedFile(
        "page.jpg", encode(page_image, "JPEG"), content_type="image/jpeg")}, format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


def test_instant_recognition_reads_with_the_users_personal_model(
        user, other_user, untrained_site_model, page_image):
    personal_reader(user)

    mine = recognize(user, page_image)
    theirs = recognize(other_user, page_image)  # no model of their own: the standard one

    assert len(mine["text"]) > 50 and mine["unread_lines"] == 0
    assert len(theirs["text"].replace("\n", "").strip()) < 10  # untrained: next to nothing
