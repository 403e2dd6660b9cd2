import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from ml import evaluate, recognize
from ml.manifest import ManifestEntry, write_manifest
from tests.ml.overfit import WORDS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def word_manifest(tmp_path, tiny_overfit):
    _, _, images = tiny_overfit
    entries = []
    for i, (image, word) in enumerate(zip(images, WORDS, strict=True)):
        path = tmp_path / "lines" / f"{i}.png"
        path.parent.mkdir(exist_ok=True)
        cv2.imwrite(str(path), image)
        entries.append(ManifestEntry(path, word))
    write_manifest(tmp_path / "words.tsv", entries)
    return tmp_path / "words.tsv"


def run_module(*args):
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_evaluate_cli_prints_metrics_json_as_its_last_line(word_manifest, tiny_model_file):
    result = run_module(
        "ml.evaluate",
        str(word_manifest),
        "--model",
        str(tiny_model_file),
        "--threads",
        "1",
        "--no-lm",
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    assert metrics["lines"] == len(WORDS)
    assert metrics["cer"] == 0.0 and metrics["wer"] == 0.0
    assert metrics["seconds"] > 0 and metrics["lines_per_second"] > 0


def test_evaluate_counts_errors_against_the_manifest_text(tmp_path, word_manifest, tiny_model_file):
    wrong = tmp_path / "wrong.tsv"
    rows = word_manifest.read_text().splitlines()
    image = rows[0].split("\t")[0]
    wrong.write_text(f"{word_manifest.parent / image}\tnose\n")  # the image says "note"
    metrics = evaluate.run(
        evaluate.EvaluateConfig(
            manifest=wrong, model=tiny_model_file, lm=False, progress=False, threads=1
        )
    )
    assert metrics["cer"] == pytest.approx(1 / 4)
    assert metrics["wer"] == pytest.approx(1.0)


def test_recognize_cli_prints_one_text_per_line_image(word_manifest, tiny_model_file):
    images = [str(word_manifest.parent / "lines" / f"{i}.png") for i in range(len(WORDS))]
    result = run_module(
        "ml.recognize", "--model", str(tiny_model_file), "--no-lm", "--line", *images
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == list(WORDS)


def test_recognize_json_has_confidences_and_alternatives(word_manifest, tiny_model_file, capsys):
    image = word_manifest.parent / "lines" / "2.png"  # "Call Ann"
    code = recognize.main(
        [
            "--model",
            str(tiny_model_file),
            "--no-lm",
            "--line",
            str(image),
            "--json",
            "--threads",
            "1",
        ]
    )
    assert code == 0
    line = json.loads(capsys.readouterr().out)
    assert line["text"] == "Call Ann"
    assert 0 < line["confidence"] <= 1
    assert len(line["char_confidences"]) == len("Call Ann")
    assert [w["text"] for w in line["words"]] == ["Call", "Ann"]
    first = line["words"][0]
    assert first["alternatives"][0]["text"] == "Call"
    assert 1 <= len(first["alternatives"]) <= 3


def test_recognize_reports_an_unreadable_image_without_a_traceback(
    tmp_path, tiny_model_file, capsys
):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert recognize.main(["--model", str(tiny_model_file), "--no-lm", "--line", str(bad)]) == 2
    assert "Cannot read image" in capsys.readouterr().err
