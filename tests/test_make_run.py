"""`make db` (run by `make run`) plans collectstatic only when something it gathers changed.

`make -n` prints the plan without running it, in a copy of the Makefile beside a small tree of
files whose times each test sets.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")

BEFORE, INSTALLED, COLLECTED, LATER = 1_000, 2_000, 3_000, 4_000  # file times, in seconds


def age(path: Path, when: int) -> None:
    os.utime(path, (when, when))


@pytest.fixture
def tree(tmp_path) -> Path:
    """A checkout with its venv installed, its secret made and its static files collected."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    files = ["pyproject.toml", "var/secret-key", "static/css/app.css", "static/js/note.js",
             ".venv/.installed", ".venv/lib/python3.11/site-packages/django/__init__.py",
             "var/static/.collected"]
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    for path in sorted(tmp_path.rglob("*"), reverse=True):  # files before their folders
        age(path, BEFORE)
    age(tmp_path / ".venv/.installed", INSTALLED)
    age(tmp_path / "var/static/.collected", COLLECTED)
    return tmp_path


def plan(tree: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NOTES_DATA_DIR"}
    done = subprocess.run(["make", "-n", "db"], cwd=tree, env=env, capture_output=True,
                          text=True, check=True)
    return done.stdout


def test_nothing_changed_skips_collectstatic_but_still_migrates(tree):
    steps = plan(tree)
    assert "collectstatic" not in steps
    assert "manage.py migrate" in steps


def test_a_changed_static_file_collects_again(tree):
    age(tree / "static/js/note.js", LATER)
    assert "collectstatic" in plan(tree)


def test_a_deleted_static_file_collects_again(tree):
    (tree / "static/css/app.css").unlink()
    age(tree / "static/css", LATER)  # what the deletion did to its folder
    assert "collectstatic" in plan(tree)


def test_installed_packages_changing_collects_again(tree):
    age(tree / ".venv/lib/python3.11/site-packages", LATER)  # pip added or removed one
    assert "collectstatic" in plan(tree)


def test_a_fresh_checkout_collects(tree):
    (tree / "var/static/.collected").unlink()
    assert "collectstatic" in plan(tree)
