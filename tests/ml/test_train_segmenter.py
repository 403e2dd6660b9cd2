"""The segmenter's trainer on a few rendered pages: it trains, keeps the best, resumes."""

import numpy as np
import pytest

from ml import train_segmenter
from ml.page.linenet import LineNetConfig, load_linenet, load_linenet_checkpoint
from ml.page.segdata import CropConfig, load_pages, sample_crop, save_page
from ml.page.segsynth import store_synthetic
from ml.synth.page import sample_pages

TINY = LineNetConfig(long_side=256, widths=(4, 8, 8), context_dilations=(2,))


@pytest.fixture(scope="module")
def seg_dir(tmp_path_factory, train_fonts, vocabulary):
    root = tmp_path_factory.mktemp("seg")
    for split, seed in (("synth-train", 1), ("synth-val", 2)):
        for i, page in enumerate(sample_pages(train_fonts, vocabulary, 2, seed, layout="notes")):
            image, targets = store_synthetic(page)
            save_page(root / split, f"p{i}", image, targets)
    return root


def test_crops_hold_their_lines_targets(seg_dir):
    page = load_pages(seg_dir / "synth-train")[0]
    rng = np.random.default_rng(0)
    image, targets, weights = sample_crop(page, CropConfig(size=128, long_side=256), rng)
    assert image.shape == (128, 128) and targets.shape == (2, 64, 64)
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert weights.min() == 1.0  # synthetic pages have no unannotated text


def config(seg_dir, tmp_path, **overrides):
    values = dict(
        seg=str(seg_dir), train=("synth-train",), val=("synth-val",), steps=4, val_every=2,
        batch_size=2, crop=128, warmup_steps=1, out=str(tmp_path / "seg.pt"), threads=1,
    )  # fmt: skip
    return train_segmenter.SegTrainConfig(**(values | overrides))


def test_training_keeps_the_best_model_and_resumes(seg_dir, tmp_path):
    record = train_segmenter.run(config(seg_dir, tmp_path), TINY)
    assert record["step"] == 4 and "f1" in record["synth-val"]
    model, metadata = load_linenet(tmp_path / "seg.pt")
    assert model.config == TINY and metadata["best"]["step"] in (2, 4)
    resumed = train_segmenter.run(config(seg_dir, tmp_path, steps=6, resume=True))
    assert resumed["step"] == 6
    assert load_linenet_checkpoint(tmp_path / "seg.pt.ckpt")["step"] == 6


@pytest.mark.slow
def test_training_with_loader_workers(seg_dir, tmp_path):
    record = train_segmenter.run(config(seg_dir, tmp_path, workers=1, steps=2), TINY)
    assert record["step"] == 2
