"""The GPU recipe is ready when a GPU is lent: it runs end to end here, on the CPU, in tiny."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from ml.checkpoint import load_model
from ml.manifest import ManifestEntry, write_manifest
from tests.ml.conftest import FONT_DIR, render_clean
from tests.ml.overfit import WORDS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_recognizer_recipe_trains_from_a_bundle_and_writes_model_checkpoint_and_log(
    tmp_path, print_font
):
    entries = []
    for i, word in enumerate(WORDS):
        path = tmp_path / "lines" / f"{i}.png"
        path.parent.mkdir(exist_ok=True)
        cv2.imwrite(str(path), render_clean(word, print_font))
        entries.append(ManifestEntry(path, word))
    write_manifest(tmp_path / "lines.tsv", entries)
    bundle, out = tmp_path / "bundle", tmp_path / "out"
    manifests = [f"{n}={tmp_path / 'lines.tsv'}" for n in ("train", "stanford-train", "fr-val",
                                                          "stanford-val")]  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "ml.bundle", "--out", str(bundle), "--fonts", str(FONT_DIR)]
        + manifests,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    env = os.environ | {
        "OUT": str(out),
        "BUNDLE": str(bundle),
        "DEVICE": "cpu",
        "STEPS": "3",
        "MINUTES": "2",
        "BATCH": "4",
        "WORKERS": "0",
        "VAL_EVERY": "3",
        "EXTRA": "--val-lines 4 --synthetic-val 4 --max-words 3",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    subprocess.run(
        ["bash", "ml/recipes/gpu_recognizer.sh"], cwd=ROOT, env=env, check=True, timeout=600
    )
    model, _, metadata = load_model(out / "crnn.pt")
    assert metadata["train_config"]["steps"] == 3
    assert metadata["train_config"]["field_fraction"] == 0.3
    assert (out / "crnn.pt.ckpt").is_file()
    assert '"step": 3' in (out / "train.log").read_text()
