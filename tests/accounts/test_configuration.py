"""The accounts settings: bad values stop the start-up naming their variable; defaults."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def shell(tmp_path, code: str, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NOTES_")}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT,
        capture_output=True, text=True, timeout=120,
        env={**base, "DJANGO_SETTINGS_MODULE": "notesite.settings", "NOTES_DEBUG": "1",
             "NOTES_DATA_DIR": str(tmp_path), **env})


def test_bad_trusted_proxy_stops_the_start_up(tmp_path):
    result = shell(tmp_path, "pass", NOTES_TRUSTED_PROXIES="10.0.0.1, proxy.internal")
    assert result.returncode != 0
    assert "NOTES_TRUSTED_PROXIES" in result.stderr and "proxy.internal" in result.stderr


def test_bad_site_url_stops_the_start_up(tmp_path):
    result = shell(tmp_path, "pass", NOTES_SITE_URL="notes.example.org")
    assert result.returncode != 0
    assert "NOTES_SITE_URL must look like https://notes.example.org" in result.stderr


def test_site_url_defaults_to_the_first_allowed_host(tmp_path):
    result = shell(tmp_path, "from django.conf import settings; print(settings.NOTES_SITE_URL)",
                   NOTES_ALLOWED_HOSTS=".notes.example.org,other.example.org", NOTES_HTTPS="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://notes.example.org"
