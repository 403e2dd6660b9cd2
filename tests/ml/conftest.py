"""Fixtures for the engine's tests: real fonts, rendered lines, a tiny trained model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ml.charset import DEFAULT_CHARSET
from ml.model import ModelConfig
from ml.synth.fonts import load_fonts
from ml.synth.text import Vocabulary

FONT_DIR = Path(__file__).resolve().parents[2] / ".cache" / "fonts"

# Small enough to train to a perfect read of a few words in seconds on a CPU.
TINY_MODEL = ModelConfig(
    height=24,
    conv_channels=(16, 32, 48),
    conv_pools=((2, 2), (2, 2), (2, 1)),
    projection=64,
    lstm_hidden=64,
    lstm_layers=1,
    dropout=0.0,
)


@pytest.fixture(scope="session")
def fonts():
    if not any(FONT_DIR.glob("*.json")):
        pytest.fail(f"No fonts in {FONT_DIR}: run `python -m ml.synth fonts` (make test does).")
    return load_fonts(FONT_DIR)


@pytest.fixture(scope="session")
def train_fonts(fonts):
    return [f for f in fonts if f.split == "train" and f.style == "handwriting"]


@pytest.fixture(scope="session")
def vocabulary():
    return Vocabulary.from_wordfreq(DEFAULT_CHARSET)


@pytest.fixture(scope="session")
def print_font(fonts):
    """A plain, easy to read font for tests that need the model to learn fast."""
    return next(f for f in fonts if f.name == "roboto")


def render_clean(text: str, font, height: int = 48) -> np.ndarray:
    """Black text on white, no augmentation: a line image any model should learn quickly."""
    from PIL import Image, ImageDraw, ImageFont

    face = ImageFont.truetype(str(font.path), height * 2 // 3)
    width = int(face.getlength(text)) + height
    image = Image.new("L", (width, height), 255)
    ImageDraw.Draw(image).text((height // 2, height // 2), text, font=face, fill=0, anchor="lm")
    return np.asarray(image)


@pytest.fixture(scope="session")
def tiny_overfit(print_font):
    """A tiny CRNN trained until it reads four clean words: (model, losses, images)."""
    from tests.ml.overfit import WORDS, overfit

    torch.set_num_threads(1)
    images = [render_clean(word, print_font) for word in WORDS]
    model, losses = overfit(TINY_MODEL, images, WORDS)
    return model, losses, images


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory, tiny_overfit):
    """The tiny overfitted model, saved as a model file."""
    from ml.checkpoint import save_model

    model, losses, _ = tiny_overfit
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    save_model(path, model, DEFAULT_CHARSET, {"purpose": "tests", "final_loss": losses[-1]})
    return path


@pytest.fixture(autouse=True)
def _deterministic_torch():
    # One thread: the test models are tiny, and a second thread only adds contention.
    torch.manual_seed(0)
    torch.set_num_threads(1)
