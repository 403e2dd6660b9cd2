"""A site started as `make run` starts it, in a throw-away data folder, for the benchmarks:
gunicorn over loopback HTTP, optional `manage.py qcluster` workers, SQLite and the ORM broker
(or DATABASE_URL when given)."""

from __future__ import annotations

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Site:
    def __init__(self, folder: Path, *, task_timeout: int = 900):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ, "NOTES_DATA_DIR": str(folder), "NOTES_SECRET_KEY": "benchmark",
            "NOTES_DEBUG": "0", "NOTES_TASK_TIMEOUT": str(task_timeout),
            "NOTES_LOG_LEVEL": "WARNING", "PATH": f"{BIN}:{os.environ['PATH']}",
        }
        self.processes: list[subprocess.Popen] = []
        self.manage("migrate", "--no-input", "-v", "0")
        self.manage("createcachetable")
        self.manage("collectstatic", "--no-input", "-v", "0")
        self.manage("shell", "-v", "0", "-c", "from django.contrib.auth.models import User; "
                    f"User.objects.create_user('bench', password='{PASSWORD}')")

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True)

    def _start(self, args: list[str], env: dict | None = None) -> subprocess.Popen:
        log = (self.folder / f"{args[0]}-{len(self.processes)}.log").open("w")
        process = subprocess.Popen(args, cwd=ROOT, env={**self.env, **(env or {})},
                                   stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def start_web(self) -> None:
        self._start(["gunicorn", "notesite.wsgi", "--bind", f"127.0.0.1:{self.port}",
                     "--workers", "2", "--timeout", "120"])
        for _ in range(100):
            try:
                requests.get(self.url + "/accounts/login/", timeout=10)
                return
            except requests.RequestException:  # not listening yet
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def start_cluster(self, workers: int) -> psutil.Process:
        process = self._start(["nice", "-n", "10", sys.executable, "manage.py", "qcluster"],
                              {"NOTES_WORKERS": str(workers)})
        return psutil.Process(process.pid)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def session(self) -> requests.Session:
        session = requests.Session()
        session.get(self.url + "/accounts/login/")
        response = session.post(self.url + "/accounts/login/", data={
            "username": "bench", "password": PASSWORD,
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
        with sqlite3.connect(self.folder / "db.sqlite3", timeout=30) as db:
            return db.execute(sql).fetchall()
