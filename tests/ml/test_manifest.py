from pathlib import Path

import pytest

from ml.errors import DataError
from ml.manifest import ManifestEntry, read_manifest, write_manifest


def test_paths_are_relative_to_the_manifest_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    manifest = tmp_path / "sub" / "m.tsv"
    manifest.write_text(
        "# comment\n\nimg/a.png\tHello  world\n/abs/b.png\tTab-free ok\n", encoding="utf-8"
    )
    entries = read_manifest(manifest)
    assert entries == [
        ManifestEntry(tmp_path / "sub" / "img" / "a.png", "Hello  world"),
        ManifestEntry(Path("/abs/b.png"), "Tab-free ok"),
    ]


def test_row_without_a_tab_is_reported_with_its_line_number(tmp_path):
    manifest = tmp_path / "m.tsv"
    manifest.write_text("a.png\tok\nbroken row\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"m.tsv:2"):
        read_manifest(manifest)


def test_missing_manifest_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_manifest(tmp_path / "nope.tsv")


def test_write_then_read_round_trips(tmp_path):
    entries = [ManifestEntry(tmp_path / "lines" / "1.png", "Café à 9:30 — “ok”")]
    assert write_manifest(tmp_path / "m.tsv", entries) == 1
    assert (tmp_path / "m.tsv").read_text(encoding="utf-8").startswith("lines/1.png\t")
    assert read_manifest(tmp_path / "m.tsv") == entries


def test_transcriptions_with_tabs_are_refused(tmp_path):
    with pytest.raises(DataError, match="tab or newline"):
        write_manifest(tmp_path / "m.tsv", [ManifestEntry(tmp_path / "a.png", "a\tb")])
