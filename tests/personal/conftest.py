"""Fixtures of the personal-model tests: a tiny base model as the site's model, and a user
whose corrected lines are real rendered words on stored page images.

The tiny model (tests/ml/conftest.py) keeps a real fine-tune to seconds; the recipe's learning
rate is raised for it, as the real one's is tuned for the 3.3 M-parameter model.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest
import torch
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw, ImageFont

from ml.charset import DEFAULT_CHARSET
from ml.checkpoint import save_model
from ml.finetune import FineTuneRecipe
from ml.model import CRNN
from ml.synth.fonts import load_fonts
from recognition import ocr
from recognition.models import Line, Note, Page
from recognition.personal import training
from tests.conftest import encode
from tests.ml.conftest import TINY_MODEL, render_clean
from tests.ml.overfit import WORDS, overfit

ROOT = Path(__file__).resolve().parents[2]
LM = ROOT / "ml" / "weights" / "charlm.json.gz"
LINE_HEIGHT = 48


@pytest.fixture(scope="session")
def roboto():
    return next(f for f in load_fonts(ROOT / ".cache" / "fonts") if f.name == "roboto")


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory, roboto):
    """Two site models with their LM beside them: `untrained.pt` reads nothing, `reader.pt`
    reads the four words of tests.ml.overfit."""
    folder = tmp_path_factory.mktemp("site-models")
    shutil.copy(LM, folder)
    torch.manual_seed(0)
    save_model(folder / "untrained.pt", CRNN(TINY_MODEL), DEFAULT_CHARSET, {"purpose": "tests"})
    model, _ = overfit(TINY_MODEL, [render_clean(w, roboto) for w in WORDS], WORDS)
    save_model(folder / "reader.pt", model, DEFAULT_CHARSET, {"purpose": "tests"})
    return folder


@pytest.fixture(autouse=True)
def quick_training(settings, monkeypatch, tmp_path):
    settings.NOTES_PERSONAL_MODEL_MIN_LINES = 10
    settings.NOTES_PERSONAL_MODEL_EVERY = 0
    settings.NOTES_PERSONAL_MODEL_MINUTES = 1
    settings.NOTES_PERSONAL_MODEL_THREADS = 1
    settings.NOTES_FONTS_DIR = tmp_path / "no-fonts"  # no rendered replay: seconds, not minutes
    monkeypatch.setattr(training, "FineTuneRecipe", functools.partial(
        FineTuneRecipe, lr=3e-3, steps=300, warmup_steps=10))
    yield
    ocr._recognizer.cache_clear()


@pytest.fixture
def site_model(settings, models_dir):
    """Make one of the tiny models the site's model: site_model("untrained")."""
    def use(name: str) -> Path:
        settings.NOTES_MODEL_PATH = models_dir / f"{name}.pt"
        return settings.NOTES_MODEL_PATH
    return use


def page_of_words(words: list[str], font) -> tuple[Image.Image, list[list[list[int]]]]:
    """A white page with one word per line in `font`, and each line's box as a polygon."""
    face = ImageFont.truetype(str(font.path), LINE_HEIGHT * 2 // 3)
    image = Image.new("L", (420, 30 + LINE_HEIGHT * 2 * len(words)), 255)
    draw = ImageDraw.Draw(image)
    polygons = []
    for i, word in enumerate(words):
        y = 30 + i * LINE_HEIGHT * 2
        draw.text((30, y + LINE_HEIGHT // 2), word, font=face, fill=0, anchor="lm")
        right = 30 + int(face.getlength(word)) + LINE_HEIGHT // 2
        polygons.append([[10, y], [right, y], [right, y + LINE_HEIGHT], [10, y + LINE_HEIGHT]])
    return image, polygons


def corrected_note(user, pages: list[list[str]], font, *, texts=None) -> Note:
    """A note whose pages hold these words, every line corrected by its owner; `texts` (same
    shape) gives what the owner typed when it differs from what is written."""
    collection = user.collections.get_or_create(name="Diary")[0]
    note = Note.objects.create(owner=user, collection=collection, title="Diary", kind="image",
                               content_type="image/jpeg", size=1, sha256="0", status="done",
                               original="notes/x/original.jpg", original_name="diary.jpg",
                               pages_total=len(pages), pages_done=len(pages))
    for number, words in enumerate(pages, start=1):
        image, polygons = page_of_words(words, font)
        name = default_storage.save(f"notes/{note.storage_key}/page-{number:03d}.jpg",
                                    ContentFile(encode(image, "JPEG", quality=95)))
        page = Page.objects.create(note=note, number=number, image=name, width=image.width,
                                   height=image.height, recognized=True)
        typed = texts[number - 1] if texts else words
        Line.objects.bulk_create(
            Line(page=page, order=i, text=text, polygon=polygon, corrected=True, confidence=1.0)
            for i, (text, polygon) in enumerate(zip(typed, polygons, strict=True)))
    return note
