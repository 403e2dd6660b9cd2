"""Settings come from the environment: production checks pass, bad values fail loudly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "NOTES_SECRET_KEY": "k" * 20 + "a-long-random-production-key-with-entropy-0123456789",
    "NOTES_DEBUG": "0",
    "NOTES_HTTPS": "1",
    "NOTES_ALLOWED_HOSTS": "notes.example.org",
}


def manage(tmp_path, *args, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NOTES_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
        env={**base, "NOTES_DATA_DIR": str(tmp_path), **env}, timeout=120)


def test_deploy_checks_pass_when_configured_for_production(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secret_key_can_come_from_a_file(tmp_path):
    key = tmp_path / "secret-key"
    key.write_text(PRODUCTION["NOTES_SECRET_KEY"] + "\n")
    env = {**PRODUCTION, "NOTES_SECRET_KEY": "", "NOTES_SECRET_KEY_FILE": str(key)}
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_refuses_to_start_without_a_secret_key(tmp_path):
    result = manage(tmp_path, "check", NOTES_DEBUG="0")
    assert result.returncode != 0
    assert "Set NOTES_SECRET_KEY or NOTES_SECRET_KEY_FILE" in result.stderr


def test_a_malformed_value_names_its_variable(tmp_path):
    result = manage(tmp_path, "check", NOTES_DEBUG="1", NOTES_WORKERS="two")
    assert result.returncode != 0
    assert "NOTES_WORKERS must be an integer, not 'two'" in result.stderr


@pytest.mark.parametrize(("value", "message"), [
    ("fast", "NOTES_PAGE_SECONDS must be a number, not 'fast'"),
    ("-1", "NOTES_PAGE_SECONDS must be at least 0, not '-1'"),
    ("nan", "NOTES_PAGE_SECONDS must be a finite number, not 'nan'"),
])
def test_a_bad_page_time_names_its_variable(tmp_path, value, message):
    result = manage(tmp_path, "check", NOTES_DEBUG="1", NOTES_PAGE_SECONDS=value)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_page_time_is_a_number_of_seconds(tmp_path):
    code = "from django.conf import settings; print(settings.NOTES_PAGE_SECONDS)"
    result = manage(tmp_path, "shell", "-c", code, NOTES_DEBUG="1", NOTES_PAGE_SECONDS="2.5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "2.5"
