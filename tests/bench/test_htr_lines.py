"""The line benchmark end to end on three rendered lines, and its scoring rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from bench import htr_lines
from bench.peers.lines import LINE_PEERS
from ml.manifest import ManifestEntry, write_manifest

LINES = ("Meet at 10 AM", "buy milk and eggs", "Call Dr. SMITH")


def render(text: str, path: Path) -> Path:
    """Black text on white, the shape of a scanned line."""
    font = ImageFont.load_default(size=32)
    image = Image.new("L", (int(font.getlength(text)) + 40, 48), 255)
    ImageDraw.Draw(image).text((20, 24), text, font=font, fill=0, anchor="lm")
    image.save(path)
    return path


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A data folder holding only the synthetic set, three lines; peers cache under tmp_path."""
    monkeypatch.setattr("bench.peers.CACHE", tmp_path / "cache")
    folder = tmp_path / "data" / "synth-test"
    folder.mkdir(parents=True)
    entries = [
        ManifestEntry(image=render(text, folder / f"{i}.png"), text=text)
        for i, text in enumerate(LINES)
    ]
    write_manifest(folder / "manifest.tsv", entries)
    return tmp_path / "data"


@pytest.mark.slow
def test_htr_lines_reads_every_line_with_ours_and_tesseract(data, tmp_path):
    if LINE_PEERS["tesseract"].unavailable():
        pytest.skip(LINE_PEERS["tesseract"].unavailable())
    out = tmp_path / "htr_lines.md"
    argv = ["--data", str(data), "--sets", "synth", "capitals", "--time-lines", "2"]
    argv += ["--engines", "greedy", "lm", "tesseract", "--out", str(out)]

    assert htr_lines.main(argv) == 0

    result = json.loads(out.with_suffix(".json").read_text())["results"]
    assert list(result) == ["synthetic, held-out fonts"]  # capitals: no manifest, skipped
    synth = result["synthetic, held-out fonts"]
    assert (synth["lines"], synth["timed_lines"]) == (3, 2)
    assert {"greedy", "lm", "tesseract"} <= synth.keys() and "ppocr" not in synth
    assert all(synth[e]["lines_per_second"] > 0 for e in ("greedy", "lm", "tesseract"))
    assert "| synthetic, held-out fonts | 3 (2 timed) |" in out.read_text()


def test_score_caseless_casefolds_both_sides():
    entries = [ManifestEntry(image=Path("a.png"), text="Call Dr. SMITH")]

    assert htr_lines.score(["call dr. smith"], entries, caseless=True)["cer"] == 0
    assert htr_lines.score(["call dr. smith"], entries, caseless=False)["cer"] > 0


def test_load_set_keeps_only_lines_whose_path_matches(tmp_path):
    entries = [
        ManifestEntry(image=tmp_path / "copiste_dun_jour" / "1.png", text="modern"),
        ManifestEntry(image=tmp_path / "peraire" / "1.png", text="old"),
    ]
    write_manifest(tmp_path / "fr-test.tsv", entries)
    fr_modern = next(s for s in htr_lines.TEST_SETS if s.key == "fr-modern")

    assert [e.text for e in htr_lines.load_set(fr_modern, tmp_path, limit=0)] == ["modern"]


def test_load_set_returns_none_for_a_missing_manifest(tmp_path):
    capitals = next(s for s in htr_lines.TEST_SETS if s.key == "capitals")

    assert htr_lines.load_set(capitals, tmp_path, limit=0) is None


def test_table_rows_bold_the_best_cer_and_add_a_caseless_row():
    capitals = next(s for s in htr_lines.TEST_SETS if s.key == "capitals")
    scores = {"cer": 0.2, "wer": 0.5, "cer_caseless": 0.1, "wer_caseless": 0.4}
    result = {
        "lines": 4,
        "timed_lines": 4,
        "lm": {**scores, "lines_per_second": 20.0},
        "ppocr": {**scores, "cer": 0.1, "cer_caseless": 0.2, "lines_per_second": 10.0},
    }

    cased, caseless = htr_lines.table_rows(capitals, result)

    assert "| — | 20.0% / 50.0% | **10.0%** / 50.0% | — |" in cased
    assert cased.endswith("| — | 20.0 | 10.0 | — | 2.00x |")
    assert "| — | **10.0%** / 40.0% | 20.0% / 40.0% | — |" in caseless
