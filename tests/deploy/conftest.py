"""Real services for the deployment tests: an S3 server (moto) and a Redis, both on the
loopback, and real `manage.py qcluster` processes on the test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest

from notesite.checks import redis_problem
from tests.test_worker_e2e import database_url

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"
S3_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           # No instance-metadata lookups: a missing key must fail at once, not after timeouts.
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    """A loopback port nothing listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3-compatible server on a free loopback port, for the whole run."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_client(s3_endpoint, monkeypatch):
    for name, value in S3_KEYS.items():
        monkeypatch.setenv(name, value)
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")


@pytest.fixture
def bucket(s3_client) -> str:
    """A new empty bucket (removed with its objects afterwards)."""
    name = f"notes-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    yield name
    for obj in s3_client.list_objects_v2(Bucket=name).get("Contents", []):
        s3_client.delete_object(Bucket=name, Key=obj["Key"])
    s3_client.delete_bucket(Bucket=name)


def s3_storage_config(*, bucket: str, endpoint: str) -> dict:
    """What settings.py builds from NOTES_S3_BUCKET and NOTES_S3_ENDPOINT_URL (the
    subprocess tests in test_startup_checks.py use settings.py's own)."""
    from botocore.config import Config

    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": bucket, "endpoint_url": endpoint, "region_name": "us-east-1",
        "default_acl": None, "querystring_auth": True, "file_overwrite": False,
        "client_config": Config(s3={"addressing_style": "path"}, connect_timeout=5,
                                retries={"mode": "standard", "max_attempts": 3})}}


@pytest.fixture
def s3_media(settings, bucket, s3_endpoint):
    """Media on the S3 server for this test; returns the bucket's name."""
    settings.STORAGES = {**settings.STORAGES,
                         "default": s3_storage_config(bucket=bucket, endpoint=s3_endpoint)}
    return bucket


def bucket_keys(client, bucket: str) -> set[str]:
    """The names of every object in the bucket."""
    return {obj["Key"] for obj in client.list_objects_v2(Bucket=bucket).get("Contents", [])}


@pytest.fixture
def redis_url() -> str:
    """The Redis on 127.0.0.1:6379; the test is skipped where there is none."""
    problem = redis_problem(REDIS_URL)
    if problem:
        pytest.skip(f"needs a Redis server on 127.0.0.1:6379 ({problem})")
    return REDIS_URL


@pytest.fixture
def cluster_name(redis_url_or_none) -> str:
    """A queue name of this test alone, so that parallel runs sharing a Redis never meet;
    its Redis keys are deleted afterwards."""
    name = f"deploy-test-{uuid.uuid4().hex[:12]}"
    yield name
    if redis_url_or_none:
        import redis

        client = redis.Redis.from_url(redis_url_or_none)
        keys = list(client.scan_iter(match=f"django_q:{name}*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def redis_url_or_none() -> str | None:
    return None if redis_problem(REDIS_URL) else REDIS_URL


class Cluster:
    """One `manage.py qcluster` process with its log."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.log_path = log_path
        self.log = log_path.open("w+")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log_path.read_text()

    def wait_running(self, deadline_s: float = 60) -> None:
        start = time.monotonic()
        while "running." not in self.output():
            assert self.process.poll() is None, f"qcluster exited:\n{self.output()[-3000:]}"
            assert time.monotonic() - start < deadline_s, "qcluster did not start"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the cluster stops its own workers
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


@pytest.fixture
def start_cluster(transactional_db, media_root, tmp_path, cluster_name):
    """Starts qcluster processes on the test database, all serving the queue
    `cluster_name`, with the broker and the extra environment given; stops them afterwards."""
    clusters: list[Cluster] = []

    def start(*, broker: str, redis_url: str | None = None, **extra: str) -> Cluster:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NOTES_")}
        env.update({
            "DATABASE_URL": database_url(), "NOTES_MEDIA_ROOT": str(media_root),
            "NOTES_DATA_DIR": str(tmp_path), "NOTES_SECRET_KEY": "tests-only-not-secret",
            "NOTES_Q_SYNC": "0", "NOTES_WORKERS": "1", "NOTES_BROKER": broker,
            "NOTES_DB_CONN_MAX_AGE": "0", "Q_CLUSTER_NAME": cluster_name, **extra})
        if redis_url:
            env["NOTES_REDIS_URL"] = redis_url
        cluster = Cluster(env, tmp_path / f"qcluster-{len(clusters)}.log")
        clusters.append(cluster)
        return cluster

    yield start
    for cluster in clusters:  # all at once: each takes a second or two to wind down
        cluster.process.send_signal(signal.SIGTERM)
    for cluster in clusters:
        cluster.stop()
    for cluster in clusters:
        print(cluster.output()[-3000:])  # shown by pytest when the test failed
