"""Instant recognition end to end: the request is served by a process that never loads the
model, the image is read by a real `instant` qcluster, and a full or silent queue is a 503."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_q.brokers import get_broker
from django_q.conf import Conf
from rest_framework.test import APIClient

from tests.conftest import encode
from tests.test_worker_e2e import ROOT, database_url, running_cluster

# A web process: Django set up as gunicorn would, one API request, then what it imported.
WEB_REQUEST = textwrap.dedent("""
    import json, sys
    import django
    django.setup()
    from django.contrib.auth import get_user_model
    from django.test.utils import setup_test_environment
    from rest_framework.test import APIClient
    setup_test_environment()
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=sys.argv[2]))
    with open(sys.argv[1], "rb") as image:
        response = client.post("/api/v1/recognize/?detail=1", {"file": image},
                               format="multipart")
    print(json.dumps({"status": response.status_code, "body": response.json(),
                      "torch": "torch" in sys.modules, "ml": "ml.api" in sys.modules}))
""")


@pytest.fixture
def cluster_env(transactional_db, media_root, tmp_path):
    return {**os.environ, "DATABASE_URL": database_url(), "NOTES_MEDIA_ROOT": str(media_root),
            "NOTES_Q_SYNC": "0", "NOTES_DATA_DIR": str(tmp_path)}


@pytest.fixture
def instant_cluster(cluster_env, tmp_path):
    with running_cluster({**cluster_env, "Q_CLUSTER_NAME": "instant"},
                         tmp_path / "instant.log") as process:
        yield process


@pytest.mark.slow
def test_the_web_process_never_loads_the_model(instant_cluster, cluster_env, user, page_image,
                                               tmp_path, media_root):
    image = tmp_path / "note.jpg"
    image.write_bytes(encode(page_image, "JPEG"))

    web = subprocess.run([sys.executable, "-c", WEB_REQUEST, str(image), user.username],
                         cwd=ROOT, env={**cluster_env, "NOTES_INSTANT_SECONDS": "180"},
                         capture_output=True, text=True, timeout=300)

    assert web.returncode == 0, web.stderr[-3000:]
    answer = json.loads(web.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200, answer["body"]
    assert len(answer["body"]["text"]) > 50 and len(answer["body"]["lines"]) >= 5
    assert not answer["torch"] and not answer["ml"]  # read by the instant cluster
    assert not list((media_root / "instant").glob("*"))  # the image did not outlive its read


@pytest.fixture
def no_worker(transactional_db, monkeypatch, settings):
    """Tasks go to the broker and nobody reads them."""
    monkeypatch.setattr(Conf, "SYNC", False)
    yield get_broker("instant")
    get_broker("instant").purge_queue()


def test_no_answer_in_time_is_a_503_and_leaves_no_file(no_worker, user, page_image, settings,
                                                       media_root):
    settings.NOTES_INSTANT_SECONDS = 1
    api = APIClient()
    api.force_authenticate(user)
    response = api.post("/api/v1/recognize/", {"file": SimpleUploadedFile(
        "note.jpg", encode(page_image, "JPEG"), content_type="image/jpeg")}, format="multipart")
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json()["error"]["code"] == "unavailable"
    assert "longer than 1 s" in response.json()["error"]["message"]
    assert not list((media_root / "instant").glob("*"))


def test_a_full_queue_is_refused_at_once(no_worker, user, page_image, settings):
    settings.NOTES_INSTANT_QUEUE = 2
    for _ in range(2):
        no_worker.enqueue("waiting")
    api = APIClient()
    api.force_authenticate(user)
    response = api.post("/api/v1/recognize/", {"file": SimpleUploadedFile(
        "note.jpg", encode(page_image, "JPEG"), content_type="image/jpeg")}, format="multipart")
    assert response.status_code == 503 and "busy" in response.json()["error"]["message"]
