"""System checks of the recognizer's files, run by `manage.py check`, `migrate` and `qcluster`
at start: a missing or damaged model is an operator's error at deploy time, not a failed job
for every user later. Cheap and torch-free, so web processes may run them too."""

from __future__ import annotations

import zipfile
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register

# The network's files beside the configured model: PyTorch writes zip archives.
SEGMENTER = Path(__file__).resolve().parents[1] / "ml" / "weights" / "linenet.pt"


@register("recognizer")
def model_files_check(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    for path, setting in ((settings.NOTES_MODEL_PATH, "NOTES_MODEL_PATH"),
                          (SEGMENTER, "the line segmenter")):
        problem = _archive_problem(Path(path))
        if problem:
            errors.append(Error(f"The model file {path} {problem}.",
                                hint=f"Check {setting}; the committed files are under "
                                     "ml/weights/ (git lfs is not used).",
                                id="recognition.E001"))
    return errors


def _archive_problem(path: Path) -> str | None:
    if not path.is_file():
        return "does not exist"
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()  # reads every member: catches truncation and bit rot
    except (zipfile.BadZipFile, OSError) as err:
        return f"is not a model file ({err})"
    if damaged is not None:
        return f"is damaged (member {damaged} fails its checksum)"
    return None
