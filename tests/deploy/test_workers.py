"""Real `manage.py qcluster` processes on the test database: recognition through the Redis
broker, and three clusters sharing one broker over 200 tasks, none lost, none run twice."""

import time

import pytest
from django_q.conf import Conf
from django_q.models import OrmQ, Task
from django_q.tasks import async_task

from recognition import services
from recognition.models import Note
from tests.deploy import tasks

TASKS = 200
DEADLINE_S = 120


@pytest.fixture
def enqueue_to(monkeypatch, cluster_name):
    """Tasks from this process go to the clusters' queue through the given broker."""

    def use(broker: str, redis_url: str | None = None) -> None:
        monkeypatch.setattr(Conf, "SYNC", False)
        monkeypatch.setattr(Conf, "CLUSTER_NAME", cluster_name)
        if broker == "redis":
            monkeypatch.setattr(Conf, "ORM", None)
            monkeypatch.setattr(Conf, "REDIS", redis_url)

    return use


@pytest.fixture
def completion_table(transactional_db):
    tasks.table_drop()
    tasks.table_create()
    yield
    tasks.table_drop()


def wait_until(condition, clusters, what: str) -> None:
    start = time.monotonic()
    while not condition():
        for cluster in clusters:
            assert cluster.process.poll() is None, f"a qcluster exited:\n{cluster.output()}"
        assert time.monotonic() - start < DEADLINE_S, f"{what} not done in {DEADLINE_S} s"
        time.sleep(0.3)


@pytest.mark.slow
def test_redis_broker_carries_an_upload_to_a_real_worker(
        redis_url, start_cluster, enqueue_to, cluster_name, user, jpeg_upload):
    enqueue_to("redis", redis_url)
    cluster = start_cluster(broker="redis", redis_url=redis_url)

    [note] = services.note_upload(user=user, files=[jpeg_upload()])
    wait_until(lambda: not Note.objects.get(pk=note.pk).is_active, [cluster], "recognition")

    note = Note.objects.get(pk=note.pk)
    assert note.status == Note.Status.DONE, note.error
    assert note.text.strip() and note.jobs.get().attempts == 1
    # It went through Redis (the Redis broker's list key), not the database's queue.
    assert f"[django_q:{cluster_name}:q] running." in cluster.output()
    assert not OrmQ.objects.exists()


@pytest.mark.slow
@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_three_clusters_share_one_broker_without_losing_or_repeating_a_task(
        broker, request, start_cluster, enqueue_to, completion_table):
    redis_url = request.getfixturevalue("redis_url") if broker == "redis" else None
    enqueue_to(broker, redis_url)
    clusters = [start_cluster(broker=broker, redis_url=redis_url, DEPLOY_TEST_WORKER=f"c{i}")
                for i in range(3)]
    for cluster in clusters:
        cluster.wait_running()

    for number in range(TASKS):
        async_task(tasks.completion_record, number, task_name=f"deploy-{number}")
    wait_until(lambda: len(tasks.completions()) >= TASKS
               and Task.objects.count() >= TASKS, clusters, f"{TASKS} tasks")
    time.sleep(1)  # a task run twice would show up now

    done = tasks.completions()
    numbers = [number for number, _ in done]
    assert len(numbers) == TASKS and set(numbers) == set(range(TASKS))
    assert {worker for _, worker in done} == {"c0", "c1", "c2"}  # all three took part
    assert Task.objects.filter(success=True).count() == TASKS
