"""A worker cluster stops within honcho's grace time when its process group gets SIGTERM, as
`honcho start` sends it on Ctrl-C or when another process exits (notesite.cluster)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.tasks import async_task, fetch
from honcho.manager import KILL_WAIT

from notesite.cluster import EXIT_KILLED, RunConfig
from tests.test_worker_e2e import ROOT, database_url

pytestmark = pytest.mark.slow  # starts a cluster (and its worker loads the recognizer)
START_S = 120


@pytest.fixture
def cluster(transactional_db, media_root, monkeypatch, tmp_path):
    """`python -m notesite.cluster` with one worker on the test database, in a session of its
    own and niced, as honcho starts the Procfile line; its worker has run one task."""
    monkeypatch.setattr(Conf, "SYNC", False)
    env = {**os.environ, "DATABASE_URL": database_url(), "NOTES_MEDIA_ROOT": str(media_root),
           "NOTES_Q_SYNC": "0", "NOTES_WORKERS": "1", "NOTES_DATA_DIR": str(tmp_path)}
    log = (tmp_path / "cluster.log").open("w+")
    process = subprocess.Popen(["nice", "-n", "10", sys.executable, "-m", "notesite.cluster"],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    tree = [psutil.Process(process.pid)]
    try:
        ready = async_task("math.sqrt", 4)
        deadline = time.monotonic() + START_S
        while fetch(ready) is None:  # the worker is up, its recognizer loaded
            assert process.poll() is None and time.monotonic() < deadline, "no worker"
            time.sleep(0.2)
        tree += tree[0].children(recursive=True)
        yield process
    finally:
        for proc in tree:  # only when a test failed: a passing one leaves nothing
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        log.seek(0)
        print(log.read()[-4000:])  # shown by pytest when the test failed


def stop_like_honcho(process) -> tuple[float, list[psutil.Process]]:
    """SIGTERM to the runner's group; seconds until the runner exited, and what outlived it."""
    tree = psutil.Process(process.pid).children(recursive=True)
    assert len(tree) == 5  # the cluster's main process, sentinel, worker, pusher, monitor
    start = time.monotonic()
    os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):  # the assertions on time say so
        process.wait(timeout=KILL_WAIT + 5)
    seconds = time.monotonic() - start
    _, alive = psutil.wait_procs(tree, timeout=1)
    return seconds, [p for p in alive if _running(p)]


def _running(proc: psutil.Process) -> bool:
    # A killed process whose parent was killed too stays a zombie until an init reaps it, and a
    # container's first process may never do so: it runs nothing.
    with contextlib.suppress(psutil.NoSuchProcess):
        return proc.status() != psutil.STATUS_ZOMBIE
    return False


def test_an_idle_cluster_stops_cleanly_within_honchos_grace(cluster):
    seconds, alive = stop_like_honcho(cluster)
    assert alive == []
    assert seconds < KILL_WAIT
    assert cluster.returncode == 0  # the cluster's own clean exit, not a kill


def test_a_busy_worker_is_killed_within_honchos_grace(cluster):
    assert RunConfig.grace < KILL_WAIT
    async_task("time.sleep", 600)
    while not OrmQ.objects.filter(lock__gt=timezone.now()).exists():  # the cluster took it
        time.sleep(0.1)
    time.sleep(0.5)  # from the pusher to the worker
    seconds, alive = stop_like_honcho(cluster)
    assert alive == []
    assert RunConfig.grace <= seconds < KILL_WAIT
    assert cluster.returncode == EXIT_KILLED
