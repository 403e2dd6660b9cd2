"""A site started as `make run` starts it, in a throw-away data folder, for the benchmarks:
gunicorn over loopback HTTP, optional `manage.py qcluster` workers (the Procfile's `worker`
and `instant` clusters), SQLite and the ORM broker, or PostgreSQL through DATABASE_URL.

Every process is started in a session of its own and stopped with its whole process group
(gunicorn's and qcluster's children included), whatever happens: `stop()` runs at exit too.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "benchmark passphrase 2026"
BIN = Path(sys.executable).parent
POSTGRES = "postgresql://postgres@127.0.0.1:5432"  # the local server, trust authentication


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# PostgreSQL -------------------------------------------------------------------------------------

def postgres_cluster() -> list[str]:
    """`pg_ctlcluster` arguments naming the local server (its version, cluster `main`)."""
    versions = sorted(os.listdir("/etc/postgresql"))
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main"]


def postgres_ready(timeout: float = 60) -> None:
    """Start the local server if it is down, then wait until it answers."""
    import psycopg

    started = False
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(f"{POSTGRES}/postgres", connect_timeout=3).close()
            return
        except psycopg.OperationalError:
            if not started:
                subprocess.run([*postgres_cluster(), "start"], check=False)
                started = True
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def postgres_execute(sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE) on the server."""
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as db:
        db.execute(sql)


def postgres_database_create(name: str) -> str:
    """A fresh, empty database; returns its DATABASE_URL."""
    postgres_ready()
    postgres_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    postgres_execute(f'CREATE DATABASE "{name}"')
    return f"{POSTGRES}/{name}"


def postgres_database_drop(name: str) -> None:
    postgres_ready()
    postgres_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_restart() -> float:
    """Restart the server (fast shutdown: open connections are cut); returns its seconds."""
    start = time.perf_counter()
    subprocess.run([*postgres_cluster(), "restart", "-m", "fast"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    return time.perf_counter() - start


# Processes --------------------------------------------------------------------------------------

def process_tree_stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the process's group (and any descendant that left it), SIGKILL what is left."""
    try:
        tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(True)]
    except psutil.NoSuchProcess:
        tree = []
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    for member in tree:
        with contextlib.suppress(psutil.Error):
            member.terminate()
    _, alive = psutil.wait_procs(tree, timeout=timeout)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    for member in alive:
        with contextlib.suppress(psutil.Error):
            member.kill()
    psutil.wait_procs(alive, timeout=5)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


# The site ---------------------------------------------------------------------------------------

class Site:
    def __init__(self, folder: Path, *, task_timeout: int = 900, database_url: str | None = None,
                 media_root: Path | None = None, env: dict | None = None):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.env = {
            **os.environ, "NOTES_DATA_DIR": str(folder), "NOTES_SECRET_KEY": "benchmark",
            "NOTES_DEBUG": "0", "NOTES_TASK_TIMEOUT": str(task_timeout),
            "NOTES_LOG_LEVEL": "WARNING", "PATH": f"{BIN}:{os.environ['PATH']}",
            **({"DATABASE_URL": database_url} if database_url else {}),
            **({"NOTES_MEDIA_ROOT": str(media_root)} if media_root else {}),
            **(env or {}),
        }
        self.media_root = media_root or folder / "media"
        self.processes: list[subprocess.Popen] = []
        self.started = 0
        atexit.register(self.stop)
        self.manage("migrate", "--no-input", "-v", "0")
        self.manage("createcachetable")
        self.manage("collectstatic", "--no-input", "-v", "0")
        self.users(["bench"])

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True)

    def users(self, names: list[str]) -> None:
        """Create these users, all with the benchmark's password, in one shell."""
        self.manage("shell", "-v", "0", "-c", "from django.contrib.auth.models import User\n"
                    f"for name in {names!r}: User.objects.create_user(name, password={PASSWORD!r})")

    def _start(self, args: list[str], env: dict | None = None) -> subprocess.Popen:
        self.started += 1
        log = (self.folder / f"{args[0]}-{self.started}.log").open("w")
        # A session of its own: the whole tree can be stopped by its process group.
        process = subprocess.Popen(args, cwd=ROOT, env={**self.env, **(env or {})},
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        process.log_path = Path(log.name)
        self.processes.append(process)
        return process

    def start_web(self, workers: int = 2) -> subprocess.Popen:
        """gunicorn as the Procfile's `web` line starts it."""
        process = self._start(["gunicorn", "notesite.wsgi", "--bind", f"127.0.0.1:{self.port}",
                               "--workers", str(workers), "--timeout", "120"])
        for _ in range(150):
            try:
                requests.get(self.url + "/accounts/login/", timeout=10)
                return process
            except requests.RequestException:  # not listening yet
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def start_cluster(self, workers: int, env: dict | None = None, name: str | None = None,
                      options: tuple[str, ...] = ()) -> psutil.Process:
        """`manage.py qcluster` (niced, as in the Procfile); name="instant" for the cluster
        that answers instant recognition requests. The psutil process's `popen` is its
        subprocess.Popen (whose `log_path` is where its output goes)."""
        extra = {"NOTES_WORKERS": str(workers), **(env or {})}
        if name:
            extra["Q_CLUSTER_NAME"] = name
        process = self._start(["nice", "-n", "5" if name == "instant" else "10",
                               sys.executable, "manage.py", "qcluster", *options], extra)
        cluster = psutil.Process(process.pid)
        cluster.popen = process
        return cluster

    def stop_process(self, process: subprocess.Popen | psutil.Process) -> None:
        """Stop one process started here (a cluster, say) with its children."""
        popen = getattr(process, "popen", process)
        process_tree_stop(popen)
        if popen in self.processes:
            self.processes.remove(popen)

    def check_alive(self) -> None:
        """Raise, with the end of its log, if a process started here has exited."""
        for process in self.processes:
            if process.poll() is not None:
                tail = process.log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise RuntimeError(f"{' '.join(map(str, process.args[:4]))} exited "
                                   f"({process.returncode}): {' / '.join(tail)}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            process_tree_stop(process)
        self.processes.clear()

    def session(self, username: str = "bench") -> requests.Session:
        session = requests.Session()
        session.get(self.url + "/accounts/login/")
        response = session.post(self.url + "/accounts/login/", data={
            "username": username, "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"]}, allow_redirects=False)
        assert response.status_code == 302, response.text[:500]
        return session

    def upload(self, session: requests.Session, name: str, data: bytes) -> float:
        """Post one file as the upload page's script does; returns the request's seconds."""
        start = time.perf_counter()
        response = session.post(
            self.url + "/notes/upload/", files={"files": (name, data)},
            headers={"Accept": "application/json", "X-CSRFToken": session.cookies["csrftoken"],
                     "Referer": self.url + "/"})
        seconds = time.perf_counter() - start
        assert response.status_code == 201, response.text[:500]
        return seconds

    def query(self, sql: str) -> list[tuple]:
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url, connect_timeout=10) as db:
                return db.execute(sql).fetchall()
        with sqlite3.connect(self.folder / "db.sqlite3", timeout=30) as db:
            return db.execute(sql).fetchall()
