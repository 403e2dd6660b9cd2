import json

import pytest

from ml.charset import DEFAULT_CHARSET
from ml.checkpoint import load_model
from ml.ctc import decode
from ml.images import prepare_line
from ml.manifest import ManifestEntry, write_manifest
from ml.model import ModelConfig
from ml.recognizer import line_log_probs
from ml.train import BudgetFit, TrainConfig, expand_weights, learning_rate, run, stage_for
from tests.ml.conftest import FONT_DIR, TINY_MODEL, render_clean
from tests.ml.overfit import WORDS


def test_tiny_model_overfits_a_handful_of_lines(tiny_overfit):
    model, losses, images = tiny_overfit
    assert losses[-1] < losses[0] / 20
    lines = [prepare_line(image, TINY_MODEL.height) for image in images]
    readings = [decode(lp, DEFAULT_CHARSET).text for lp in line_log_probs(model, lines)]
    assert readings == list(WORDS)


def test_curriculum_starts_synthetic_and_short_then_mixes_real_lines():
    config = TrainConfig(
        train=("real.tsv",), curriculum=("1:100", "3:200"), max_words=9, real_fraction=0.4
    )
    assert stage_for(config, 0) == (0, 1, 0.0)
    assert stage_for(config, 150) == (1, 3, 0.0)
    assert stage_for(config, 200) == (2, 9, 0.4)


def test_fine_tuning_skips_the_curriculum_and_sees_its_lines_from_the_first_step():
    # A 10-minute fine-tune used to spend all its ~700 steps on rendered single words.
    config = TrainConfig(train=("writer.tsv",), init="base.pt", curriculum=("1:300", "3:700"),
                         max_words=9, real_fraction=0.5)
    assert stage_for(config, 0) == stage_for(config, 5_000) == (2, 9, 0.5)


def test_without_synthetic_lines_there_is_one_real_only_stage():
    config = TrainConfig(train=("real.tsv",), synthetic=False)
    assert stage_for(config, 0) == stage_for(config, 10_000) == (0, config.max_words, 1.0)


def test_learning_rate_warms_up_then_decays_to_the_floor_by_step():
    config = TrainConfig(lr=1e-3, warmup_steps=10, min_lr_ratio=0.1, steps=1010)
    assert learning_rate(config, 0) == pytest.approx(1e-4)
    assert learning_rate(config, 10) == pytest.approx(1e-3)
    assert learning_rate(config, 510) == pytest.approx(0.55e-3)
    assert learning_rate(config, 1010) == pytest.approx(1e-4)
    assert learning_rate(config, 5000) == pytest.approx(1e-4)  # resumed past the end: the floor


def test_a_fitted_schedule_ends_when_the_time_budget_does():
    """0.1 s a step and one minute: about 600 steps, whatever the schedule said, the rate
    decaying to its floor by then; never longer than asked, never shorter than the warm-up."""
    config = TrainConfig(minutes=1, steps=1000, warmup_steps=10, fit_to_budget=True)
    fit = BudgetFit(config, first_step=0)
    assert fit.update(3, 0.5) == 1000  # the first steps are not measured
    assert fit.update(13, 1.5) == 13 + int(58.5 / 0.1)
    floor = config.lr * config.min_lr_ratio
    assert learning_rate(config, 598, fit.steps) == pytest.approx(floor)
    assert fit.update(23, 2.5) == 23 + int(57.5 / 0.1)
    assert BudgetFit(config, 0).update(3, 0.0) == 1000
    fast = BudgetFit(config, 0)
    fast.update(3, 0.0)
    assert fast.update(13, 0.01) == 1000
    slow = BudgetFit(config, 0)
    slow.update(3, 0.0)
    assert slow.update(13, 59.0) == 13  # nothing more fits: it ends now
    fixed = BudgetFit(TrainConfig(minutes=1, steps=1000), 0)
    fixed.update(3, 0.0)
    assert fixed.update(13, 50.0) == 1000


def test_manifest_weights_repeat_a_source():
    assert expand_weights(("a.tsv", "b.tsv:3")) == ["a.tsv", "b.tsv", "b.tsv", "b.tsv"]


@pytest.fixture
def small_val_manifest(tmp_path, print_font):
    import cv2

    entries = []
    for i, word in enumerate(WORDS):
        path = tmp_path / f"val{i}.png"
        cv2.imwrite(str(path), render_clean(word, print_font))
        entries.append(ManifestEntry(path, word))
    write_manifest(tmp_path / "val.tsv", entries)
    return tmp_path / "val.tsv"


def test_training_run_saves_best_model_log_and_resumes(tmp_path, small_val_manifest):
    config = TrainConfig(
        train=(str(small_val_manifest),),
        val=(str(small_val_manifest),),
        fonts=str(FONT_DIR),
        synthetic_val=4,
        out=str(tmp_path / "run" / "m.pt"),
        steps=4,
        minutes=5,
        batch_size=4,
        curriculum=("1:2",),
        max_words=3,
        val_every=2,
        workers=0,
        progress=False,
        real_fraction=0.5,
    )
    summary = run(config, TINY_MODEL)
    assert summary["steps"] == 4
    model, charset, metadata = load_model(tmp_path / "run" / "m.pt")
    assert model.config == TINY_MODEL and charset == DEFAULT_CHARSET
    assert metadata["train_config"]["steps"] == 4
    assert metadata["data"]["val_sets"] == ["val", "synthetic-val"]
    log = [
        json.loads(line) for line in (tmp_path / "run" / "m.pt.log.jsonl").read_text().splitlines()
    ]
    assert [r["step"] for r in log] == [2, 4]
    assert {"val/cer", "synthetic-val/cer", "mean_cer", "loss"} <= log[-1].keys()

    # Resuming takes the architecture from the checkpoint, not from the (default) arguments.
    resumed = run(TrainConfig(**{**config.__dict__, "resume": True, "steps": 6}), ModelConfig())
    assert resumed["steps"] == 6
    assert len(resumed["history"]) == 3
    assert load_model(tmp_path / "run" / "m.pt.ckpt")[0].config == TINY_MODEL


def test_fine_tuning_starts_from_given_weights(tmp_path, tiny_model_file, small_val_manifest):
    config = TrainConfig(
        init=str(tiny_model_file),
        train=(str(small_val_manifest),),
        synthetic=False,
        val=(str(small_val_manifest),),
        out=str(tmp_path / "ft.pt"),
        steps=2,
        batch_size=4,
        val_every=2,
        workers=0,
        progress=False,
        lr=1e-5,
        warmup_steps=1,
    )
    summary = run(config)
    # The tiny model already reads these words; two tiny steps must not forget them.
    assert summary["best_cer"] < 0.1
