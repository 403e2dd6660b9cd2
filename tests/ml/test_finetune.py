"""Fine-tuning one writer's lines (ml.finetune): the recipe learns, measures both models on
held-out lines, and `ml.train --init` starts from the same recipe."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from ml import finetune
from ml.charset import DEFAULT_CHARSET
from ml.checkpoint import load_model, save_model
from ml.errors import DataError
from ml.finetune import FineTuneRecipe, fine_tune
from ml.manifest import ManifestEntry, write_manifest
from ml.model import CRNN
from ml.recognizer import LM_FILE_NAME, Recognizer
from ml.train import TrainConfig, parse
from tests.ml.conftest import TINY_MODEL, render_clean
from tests.ml.overfit import WORDS

LM = Path(__file__).resolve().parents[2] / "ml" / "weights" / LM_FILE_NAME
# The tiny model learns fast only with a high rate; the recipe's own is for the real one.
QUICK = FineTuneRecipe(minutes=2, steps=400, lr=3e-3, warmup_steps=10, threads=1, workers=0)


def manifest(folder: Path, name: str, font, sizes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for size in sizes:
        for i, word in enumerate(WORDS):
            path = folder / f"{name}-{size}-{i}.png"
            Image.fromarray(render_clean(word, font, height=size)).save(path)
            entries.append(ManifestEntry(path, word))
    write_manifest(folder / f"{name}.tsv", entries)
    return folder / f"{name}.tsv"


@pytest.fixture
def writer(tmp_path, print_font):
    """A 'writer' whose lines an untrained model cannot read: train and held-out manifests."""
    return (manifest(tmp_path / "lines", "train", print_font, (44, 48, 52)),
            manifest(tmp_path / "lines", "held", print_font, (46, 50)))


def test_a_fine_tune_learns_the_writer_and_says_it_improved(tmp_path, writer, monkeypatch):
    monkeypatch.setattr(finetune, "MIN_CALIBRATION_WORDS", 8)  # the held-out lines: one word each
    base = tmp_path / "base.pt"
    save_model(base, CRNN(TINY_MODEL), DEFAULT_CHARSET, {"purpose": "untrained base"})
    train, held = writer

    result = fine_tune(init=base, train=train, held_out=held, out=tmp_path / "mine.pt",
                       recipe=QUICK, lm=LM)

    assert result.train_lines == 12 and result.held_out_lines == 8
    assert result.base_cer > 0.9 and result.cer < 0.5 and result.improved
    model, _, metadata = load_model(tmp_path / "mine.pt")
    assert model.config == TINY_MODEL  # the architecture of the model it started from
    assert metadata["fine_tuned_from"] == str(base) and metadata["fine_tune"]["train_lines"] == 12
    # Its confidences are calibrated on the held-out reading, and the file carries the maps.
    assert result.calibration["held_out_lines"] == 8 and "unsure_below" in result.calibration
    recognizer = Recognizer.load(tmp_path / "mine.pt", lm_path=LM)
    assert recognizer.calibration is not None
    assert recognizer.calibration.fitted_on == result.calibration


def test_a_fine_tune_that_made_things_worse_says_so(tmp_path, writer, tiny_model_file,
                                                    print_font):
    """Lines transcribed wrongly (each image given the next word) teach the wrong text: the
    new model reads the held-out lines worse than the model it came from."""
    _, held = writer
    folder = tmp_path / "wrong"
    folder.mkdir()
    wrong = []
    for i, word in enumerate(WORDS * 3):
        path = folder / f"{i}.png"
        Image.fromarray(render_clean(word, print_font, height=44 + 4 * (i // 4))).save(path)
        wrong.append(ManifestEntry(path, WORDS[(WORDS.index(word) + 1) % len(WORDS)]))
    write_manifest(folder / "wrong.tsv", wrong)

    result = fine_tune(init=tiny_model_file, train=folder / "wrong.tsv", held_out=held,
                       out=tmp_path / "mine.pt", recipe=QUICK, lm=LM)

    assert result.cer > result.base_cer and not result.improved
    assert result.calibration is None  # 8 held-out words are too few to fit maps on


def test_fine_tuning_needs_lines_on_both_sides(tmp_path, writer, tiny_model_file):
    train, _ = writer
    empty = tmp_path / "empty.tsv"
    write_manifest(empty, [])
    with pytest.raises(DataError):
        fine_tune(init=tiny_model_file, train=train, held_out=empty, out=tmp_path / "x.pt",
                  recipe=QUICK, lm=LM)


def test_train_with_init_takes_the_fine_tuning_recipe_unless_told_otherwise():
    recipe = FineTuneRecipe()
    config, _ = parse(["--init", "base.pt", "--train", "mine.tsv"])
    assert (config.lr, config.steps, config.batch_size) == (recipe.lr, recipe.steps,
                                                            recipe.batch_size)
    assert parse(["--init", "base.pt", "--lr", "0.001"])[0].lr == 0.001
    scratch, _ = parse(["--train", "mine.tsv"])
    assert (scratch.lr, scratch.steps) == (TrainConfig.lr, TrainConfig.steps)
