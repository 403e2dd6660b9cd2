"""Start-up checks: a wrong S3 or Redis set-up stops `manage.py` with a message naming what to
fix, before the site serves a request."""

import os
import subprocess
import sys
import uuid

import pytest

from notesite import checks
from tests.deploy.conftest import ROOT, S3_KEYS, free_port, s3_storage_config


def manage(tmp_path, *args, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("NOTES_", "AWS_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
        env={**base, "NOTES_DATA_DIR": str(tmp_path), "NOTES_SECRET_KEY": "tests-only",
             **S3_KEYS, **env}, timeout=120)


def media_errors(settings, *, bucket: str, endpoint: str) -> list[str]:
    settings.STORAGES = {**settings.STORAGES,
                         "default": s3_storage_config(bucket=bucket, endpoint=endpoint)}
    return [error.msg for error in checks.media_storage_check()]


def test_media_check_passes_when_the_bucket_answers(settings, bucket, s3_endpoint):
    assert media_errors(settings, bucket=bucket, endpoint=s3_endpoint) == []


def test_media_check_names_a_missing_bucket(settings, s3_client, s3_endpoint):
    errors = media_errors(settings, bucket="no-such-bucket", endpoint=s3_endpoint)
    assert errors == [checks.NO_BUCKET.format(bucket="no-such-bucket", endpoint=s3_endpoint)]


def test_media_check_names_an_unreachable_endpoint(settings, s3_client):
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    [error] = media_errors(settings, bucket="notes", endpoint=endpoint)
    assert error.startswith(f"Cannot reach the S3 endpoint {endpoint} for bucket 'notes': ")
    assert error.endswith("Check NOTES_S3_ENDPOINT_URL.")


def test_media_check_asks_for_credentials_when_there_are_none(
        settings, s3_endpoint, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    errors = media_errors(settings, bucket="notes", endpoint=s3_endpoint)
    assert errors == [checks.NO_CREDENTIALS.format(bucket="notes")]


def test_media_check_is_silent_for_local_files(settings):
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    assert checks.media_storage_check() == []


def test_redis_check_names_an_unreachable_server_without_its_password(settings):
    port = free_port()  # nothing listens there
    settings.REDIS_URL = f"redis://notes:s3cret@127.0.0.1:{port}/0"
    [error] = checks.redis_check()
    assert error.id == "notesite.E002"
    assert error.msg.startswith(
        f"Cannot reach Redis at redis://notes:***@127.0.0.1:{port}/0 (NOTES_REDIS_URL): ")
    assert "s3cret" not in error.msg


def test_redis_check_passes_when_redis_answers(settings, redis_url):
    settings.REDIS_URL = redis_url
    assert checks.redis_check() == []


# Through settings.py and manage.py, as `make run` and the containers start -------------------

def test_start_stops_on_a_missing_bucket(tmp_path, s3_endpoint):
    bucket = f"missing-{uuid.uuid4().hex[:8]}"
    result = manage(tmp_path, "migrate", "--no-input", NOTES_S3_BUCKET=bucket,
                    NOTES_S3_ENDPOINT_URL=s3_endpoint)
    assert result.returncode != 0
    assert checks.NO_BUCKET.format(bucket=bucket, endpoint=s3_endpoint) in result.stderr
    assert "Applying" not in result.stdout  # stopped before touching the database


def test_settings_put_media_in_the_bucket_from_the_environment(tmp_path, bucket, s3_endpoint,
                                                               s3_client):
    code = ("from django.core.files.base import ContentFile;"
            "from django.core.files.storage import default_storage as s;"
            "name = s.save('probe/hello.txt', ContentFile(b'hello'));"
            "print(name, s.open(name).read().decode())")
    result = manage(tmp_path, "shell", "-c", code, NOTES_S3_BUCKET=bucket,
                    NOTES_S3_ENDPOINT_URL=s3_endpoint, NOTES_S3_REGION="us-east-1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["probe/hello.txt", "hello"]
    assert s3_client.get_object(Bucket=bucket, Key="probe/hello.txt")["Body"].read() == b"hello"


@pytest.mark.parametrize(("env", "message"), [
    ({"NOTES_BROKER": "rabbit"}, "NOTES_BROKER must be orm or redis, not 'rabbit'"),
    ({"NOTES_BROKER": "redis"}, "NOTES_BROKER=redis needs NOTES_REDIS_URL"),
    ({"NOTES_S3_BUCKET": "b", "NOTES_S3_ADDRESSING_STYLE": "dns"},
     "NOTES_S3_ADDRESSING_STYLE must be auto, path or virtual, not 'dns'"),
    ({"NOTES_S3_BUCKET": "b", "NOTES_S3_ENDPOINT_URL": "minio:9000"},
     "NOTES_S3_ENDPOINT_URL must start with http:// or https://, not 'minio:9000'"),
])
def test_a_bad_service_setting_names_its_variable(tmp_path, env, message):
    result = manage(tmp_path, "check", **env)
    assert result.returncode != 0
    assert message in result.stderr
