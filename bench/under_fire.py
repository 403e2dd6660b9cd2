"""Proof under fire: many users on the live site for minutes, then the same with faults.

    python bench/under_fire.py [--minutes 10] [--clients 50] [--database postgres|sqlite]
                               [--out bench/results/under_fire.md]

The site runs as `make run` runs it (the Procfile): gunicorn (2 processes), the `worker`
cluster (2 recognition workers, niced) and the `instant` cluster, over loopback HTTP, on a fresh
PostgreSQL database (`under_fire_<pid>`, dropped at the end) or SQLite. Each client is a thread
with a user and a logged-in `requests.Session` of its own, doing what a person does: upload a
note page photo, poll its status as the note page's script does (every 2 s), read a note page
and its page image, correct a line as the inline editor does, search, list the notes; a think
time between requests. Every request is recorded: kind, status, latency.

Phases, each followed by a drain (clients stopped, the queue left to empty) and its checks:
1. load: --minutes of the mix above.
2. postgres: the mix, with the database server restarted half-way (`pg_ctlcluster restart`).
3. model: the worker cluster restarted on a truncated model file: it must say so at start, and
   the jobs of a worker that loads the file anyway (--skip-checks) must fail readably.
4. kill: a 20-page PDF; a busy worker SIGKILLed in the middle of it (job stall check at 30 s).
5. disk: a second site whose media lie on a small tmpfs, filled half-way through the phase.
Checked from the database after each drain: nothing stuck or lost, no page or line stored twice,
no note recognized twice, every failure readable; for the disk, no note without its file and no
file without its note.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import live_site  # noqa: E402
from bench.live_site import Site  # noqa: E402

POLL_SECONDS = 2.0  # as static/js/note.js polls
KINDS = ("upload", "status", "list", "note", "image", "edit", "search")
LINE_RE = re.compile(r'<li data-line="(\d+)" data-url="([^"]+)"\s+data-text="([^"]*)"')
REVISION_RE = re.compile(r'data-editor data-revision="(\d+)"')
WORD_RE = re.compile(r"[A-Za-z]{4,}")
SEARCH_WORDS = ["meeting", "notes", "project", "about", "would", "their", "there", "which"]
# What a person must never read in a failure: a traceback, source files, server paths.
UNREADABLE_RE = re.compile(r"Traceback|File \"|\.py\b|\.pt\b|(?:^|[\s'\"(=])/[\w.-]+/")


# Records and statistics -------------------------------------------------------------------------

@dataclass
class Record:
    phase: str
    kind: str
    status: int  # 0: no answer (connection refused or reset, timeout)
    seconds: float
    start: float  # time.monotonic() when the request was sent
    message: str = ""  # what an error answer said


@dataclass
class Log:
    """Every request and every note uploaded, from all client threads (appends are atomic)."""
    phase: str = ""
    records: list[Record] = field(default_factory=list)
    uploaded: list[tuple[str, int]] = field(default_factory=list)  # (phase, note id)

    def of(self, phase: str) -> list[Record]:
        return [r for r in self.records if r.phase == phase]

    def notes(self, phase: str) -> list[int]:
        return [note for p, note in self.uploaded if p == phase]


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def overlaps(record: Record, windows: list[tuple[float, float]]) -> bool:
    """Whether the request was in flight during any of the (start, end) windows."""
    return any(record.start <= end and record.start + record.seconds >= start
               for start, end in windows)


def summarize(records: list[Record], windows: list[tuple[float, float]] = ()) -> dict:
    """Counts and latencies per kind and overall; requests in flight during a fault window
    are counted apart (`in_fault`) and left out of everything else."""
    fault = [r for r in records if overlaps(r, windows)]
    calm = [r for r in records if not overlaps(r, windows)]

    def stats(rs: list[Record]) -> dict:
        answered = [1000 * r.seconds for r in rs if r.status]
        return {
            "requests": len(rs),
            "ok": sum(200 <= r.status < 400 for r in rs),
            "4xx": sum(400 <= r.status < 500 for r in rs),
            "5xx": sum(r.status >= 500 for r in rs),
            "no_answer": sum(r.status == 0 for r in rs),
            "p50_ms": percentile(answered, 50), "p95_ms": percentile(answered, 95),
            "max_ms": max(answered, default=None),
        }

    return {
        "all": stats(calm),
        "without_uploads": stats([r for r in calm if r.kind != "upload"]),
        "kinds": {kind: stats([r for r in calm if r.kind == kind])
                  for kind in KINDS if any(r.kind == kind for r in calm)},
        "in_fault": stats(fault),
        "errors": sorted({f"{r.kind} {r.status}: {r.message}"[:160]
                          for r in calm if r.status >= 500 or r.status == 0})[:8],
    }


def readable_error(text: str) -> bool:
    """A failure a person can read: said, short, and free of tracebacks and server paths."""
    return bool(text and text.strip()) and len(text) <= 500 and not UNREADABLE_RE.search(text)


def answer_message(response: requests.Response) -> str:
    """What an error answer says: the JSON error's message, or the HTML page's heading."""
    with contextlib.suppress(ValueError):
        body = response.json()
        error = body.get("error", body) if isinstance(body, dict) else body
        if isinstance(error, dict):
            return str(error.get("message") or error.get("detail") or error)[:300]
        return str(error)[:300]
    heading = (re.search(r"<h1[^>]*>(.*?)</h1", response.text, re.S)
               or re.search(r"<title[^>]*>(.*?)</title", response.text, re.S))
    text = re.sub(r"<[^>]+>", "", heading.group(1) if heading else response.text)
    return " ".join(text.split())[:300]


# Database checks --------------------------------------------------------------------------------

INVARIANTS = {  # name: SQL counting violations (PostgreSQL and SQLite alike)
    "notes_stuck": "select count(*) from recognition_note where status in ('queued', "
                   "'processing')",
    "jobs_stuck": "select count(*) from recognition_recognitionjob where status in ('queued', "
                  "'running')",
    "pages_stored_twice": "select count(*) from (select note_id, number from recognition_page "
                          "group by note_id, number having count(*) > 1) as t",
    "lines_stored_twice": 'select count(*) from (select page_id, "order" from recognition_line '
                          'group by page_id, "order" having count(*) > 1) as t',
    "notes_recognized_twice": "select count(*) from (select note_id from "
                              "recognition_recognitionjob where status = 'done' group by "
                              "note_id having count(*) > 1) as t",
    "machine_revisions_twice": "select count(*) from (select note_id from recognition_revision "
                               "where kind = 'machine' group by note_id having count(*) > 1) "
                               "as t",
    "done_without_all_pages": "select count(*) from recognition_note n where status = 'done' "
                              "and (pages_done <> pages_total or (select count(*) from "
                              "recognition_page p where p.note_id = n.id) <> pages_total)",
    "done_pages_unread": "select count(*) from recognition_page p join recognition_note n on "
                         "n.id = p.note_id where n.status = 'done' and not p.recognized",
}


def invariants(query) -> dict:
    """Violations of each invariant (all should be 0) through `query(sql) -> rows`."""
    return {name: query(sql)[0][0] for name, sql in INVARIANTS.items()}


def outcomes(query, uploaded: list[int]) -> dict:
    """What became of the notes uploaded: done, failed (readably or not), stuck, lost."""
    rows = {note: (status, error) for note, status, error in
            query("select id, status, error from recognition_note")}
    mine = [rows.get(note) for note in uploaded]
    failed = [error for row in mine if row and row[0] == "failed" for error in [row[1]]]
    jobs = dict(query("select note_id, count(*) from recognition_recognitionjob group by note_id"))
    return {
        "uploaded": len(uploaded),
        "done": sum(1 for row in mine if row and row[0] == "done"),
        "failed": len(failed),
        "failed_unreadable": sum(not readable_error(e) for e in failed),
        "stuck": sum(1 for row in mine if row and row[0] in ("queued", "processing")),
        "lost": sum(1 for row in mine if row is None),
        "run_again": sum(jobs.get(note, 0) > 1 for note in uploaded),  # by the stall check
        "failures": sorted(set(failed))[:5],
    }


def media_check(query, media_root: Path) -> dict:
    """Notes without their original (or thumbnail), originals of the wrong size, and files
    under notes/ that no row names (left half-written by a failed upload, say)."""
    named: set[str] = set()
    missing = wrong_size = thumbs_missing = 0
    for original, size, thumbnail in query(
            "select original, size, thumbnail from recognition_note"):
        named.update(n for n in (original, thumbnail) if n)
        path = media_root / original
        missing += not path.is_file()
        wrong_size += path.is_file() and path.stat().st_size != size
        thumbs_missing += bool(thumbnail) and not (media_root / thumbnail).is_file()
    named.update(name for (name,) in query("select image from recognition_page") if name)
    stored = {str(p.relative_to(media_root)) for p in (media_root / "notes").rglob("*")
              if p.is_file()} if (media_root / "notes").exists() else set()
    return {"notes_without_original": missing, "originals_wrong_size": wrong_size,
            "notes_without_thumbnail": thumbs_missing,
            "files_without_row": len(stored - named)}


# Inputs -----------------------------------------------------------------------------------------

def inputs(photos: int, pdf_pages: int, seed: int) -> tuple[list[bytes], bytes]:
    """Note page photos (synthetic handwriting, JPEG, a few hundred KB) and a scanned PDF."""
    import cv2

    from bench.platform_load import note_pages, scanned_pdf

    pages = note_pages(photos, seed=seed)
    jpegs = [cv2.imencode(".jpg", cv2.cvtColor(p, cv2.COLOR_RGB2BGR),
                          [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes() for p in pages]
    return jpegs, scanned_pdf(note_pages(pdf_pages, seed=seed + 1))


# Clients ----------------------------------------------------------------------------------------

class Client:
    """One person: their own user and session, one note in recognition at a time."""

    def __init__(self, site: Site, username: str, photos: list[bytes], log: Log, *, seed: int,
                 think: float, upload_every: float):
        self.site, self.log, self.photos = site, log, photos
        self.session = site.session(username)
        self.rng = random.Random(seed)
        self.think, self.upload_every = think, upload_every
        self.pending: dict[int, float] = {}  # note id -> when its status was last polled
        self.done: list[int] = []
        self.words = list(SEARCH_WORDS)
        self.next_upload = 0.0

    def call(self, kind: str, method: str, path: str, **kwargs) -> requests.Response | None:
        headers = {"X-CSRFToken": self.session.cookies.get("csrftoken", ""),
                   "Referer": self.site.url + "/", **kwargs.pop("headers", {})}
        start = time.monotonic()
        try:
            response = self.session.request(method, self.site.url + path, headers=headers,
                                            timeout=60, **kwargs)
        except requests.RequestException as err:
            self.log.records.append(Record(self.log.phase, kind, 0, time.monotonic() - start,
                                           start, type(err).__name__))
            return None
        message = answer_message(response) if response.status_code >= 400 else ""
        self.log.records.append(Record(self.log.phase, kind, response.status_code,
                                       time.monotonic() - start, start, message))
        return response

    def run(self, stop: threading.Event, uploads: bool = True) -> None:
        while not stop.is_set():
            self.step(uploads)
            stop.wait(self.rng.uniform(0.5 * self.think, 1.5 * self.think))

    def step(self, uploads: bool) -> None:
        now = time.monotonic()
        due = [note for note, polled in self.pending.items() if now - polled >= POLL_SECONDS]
        if due:
            return self.poll(due[0])
        if uploads and not self.pending and now >= self.next_upload:
            return self.upload()
        action = self.rng.choices(["list", "note", "edit", "search"], [2, 3, 2, 2])[0]
        if action in ("note", "edit") and self.done:
            note = self.rng.choice(self.done)
            return self.read(note) if action == "note" else self.edit(note)
        return self.search() if action == "search" else self.call("list", "GET", "/")

    def upload(self) -> None:
        self.next_upload = time.monotonic() + self.rng.uniform(0.5, 1.5) * self.upload_every
        photo = self.rng.randrange(len(self.photos))
        response = self.call("upload", "POST", "/notes/upload/",
                             files={"files": (f"page-{photo}.jpg", self.photos[photo])},
                             headers={"Accept": "application/json"})
        if response is not None and response.status_code == 201:
            for note in response.json()["notes"]:
                self.log.uploaded.append((self.log.phase, note))
                self.pending[note] = time.monotonic()

    def poll(self, note: int) -> None:
        self.pending[note] = time.monotonic()
        response = self.call("status", "GET", f"/notes/{note}/status/",
                             headers={"Accept": "application/json"})
        if response is not None and response.ok:
            status = response.json().get("status")
            if status in ("done", "failed"):
                del self.pending[note]
                if status == "done":
                    self.done.append(note)

    def read(self, note: int) -> tuple[int, list[tuple[str, str, str]]] | None:
        """The note page, then its first page image; the revision and lines shown."""
        response = self.call("note", "GET", f"/notes/{note}/")
        self.call("image", "GET", f"/notes/{note}/pages/1/image/")
        if response is None or not response.ok:
            return None
        revision = REVISION_RE.search(response.text)
        lines = LINE_RE.findall(response.text)
        for _, _, text in lines[:3]:
            self.words.extend(w.lower() for w in WORD_RE.findall(text))
        del self.words[:-50]
        return (int(revision.group(1)), lines) if revision else None

    def edit(self, note: int) -> None:
        """Correct one line as the inline editor does (JSON with the revision seen)."""
        shown = self.read(note)
        if not shown or not shown[1]:
            return
        revision, lines = shown
        _, url, text = self.rng.choice(lines)
        text = f"{text.split(' ~')[0]} ~{self.rng.randrange(1000)}"[:200]
        self.call("edit", "POST", url, json={"text": text, "revision": revision},
                  headers={"Accept": "application/json"})

    def search(self) -> None:
        self.call("search", "GET", "/search/", params={"q": self.rng.choice(self.words)})


def clients_start(site: Site, count: int, photos: list[bytes], log: Log, args) -> list[Client]:
    names = [f"user{i}" for i in range(count)]
    site.users(names)
    return [Client(site, name, photos, log, seed=args.seed + i, think=args.think,
                   upload_every=args.upload_every) for i, name in enumerate(names)]


def load(clients: list[Client], log: Log, phase: str, seconds: float, fault=None,
         uploads: bool = True) -> dict:
    """Run every client for `seconds`; `fault(start)` runs meanwhile and returns its facts."""
    log.phase = phase
    for client in clients:  # notes of an earlier phase are not this phase's to poll
        client.pending.clear()
    stop = threading.Event()
    threads = [threading.Thread(target=c.run, args=(stop, uploads), daemon=True)
               for c in clients]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        facts = fault(start) if fault else {}
        stop.wait(max(0.0, start + seconds - time.monotonic()))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
    return {"seconds": time.monotonic() - start, "started": start, **facts}


def drain(site: Site, cap: float) -> float:
    """Wait until no note is queued or processing (at most `cap` seconds); returns seconds."""
    start = time.monotonic()
    while time.monotonic() - start < cap:
        site.check_alive()
        with contextlib.suppress(Exception):  # the database may be restarting
            if not site.query(INVARIANTS["notes_stuck"])[0][0]:
                break
        time.sleep(2)
    return time.monotonic() - start


def phase_result(site: Site, log: Log, phase: str, run: dict, drained: float,
                 windows: list[tuple[float, float]] = ()) -> dict:
    result = {"run_seconds": run.pop("seconds"), "drain_seconds": drained,
              "requests": summarize(log.of(phase), windows),
              "notes": outcomes(site.query, log.notes(phase)),
              "invariants": invariants(site.query), **run}
    result.pop("started", None)
    print(phase, json.dumps({k: result[k] for k in ("notes", "invariants")}), flush=True)
    return result


# Faults -----------------------------------------------------------------------------------------

def recovered(session: requests.Session, url: str, timeout: float = 180) -> float:
    """When the site next answered 5 logged-in page requests in a row (monotonic time)."""
    deadline, streak = time.monotonic() + timeout, 0
    while streak < 5 and time.monotonic() < deadline:
        try:
            streak = streak + 1 if session.get(url + "/", timeout=10).ok else 0
        except requests.RequestException:
            streak = 0
        time.sleep(0.2)
    return time.monotonic()


def postgres_phase(site: Site, clients: list[Client], log: Log, args) -> dict:
    probe = site.session("bench")

    def fault(start: float) -> dict:
        time.sleep(args.fault_minutes * 30)
        began = time.monotonic()
        restart = live_site.postgres_restart()
        back = recovered(probe, site.url)
        return {"restart_seconds": restart, "site_back_after_s": back - began,
                "window": (began, back)}

    run = load(clients, log, "postgres", args.fault_minutes * 60, fault)
    drained = drain(site, args.drain_minutes * 60)
    window = run.pop("window")
    result = phase_result(site, log, "postgres", run, drained, [window])
    result["clusters_alive"] = all(p.poll() is None for p in site.processes)
    return result


def model_phase(site: Site, clients: list[Client], log: Log, args, cluster, folder: Path):
    """The worker cluster on a truncated model file; returns (result, a healthy cluster).

    Started as the Procfile starts it, the cluster may refuse to start (a system check of the
    model file): that refusal and its message are recorded. Jobs must then fail readably in a
    worker that loads the file anyway (started with --skip-checks, as a worker recycled after
    the file went bad would)."""
    bad = folder / "corrupt-model"
    bad.mkdir(exist_ok=True)
    weights = ROOT / "ml" / "weights"
    model = (weights / "crnn.pt").read_bytes()
    (bad / "crnn.pt").write_bytes(model[: len(model) // 3])
    for name in ("charlm.json.gz", "calibration.json"):
        shutil.copy(weights / name, bad / name)
    env = {"NOTES_MODEL_PATH": str(bad / "crnn.pt")}
    site.stop_process(cluster)
    corrupt = site.start_cluster(args.workers, env)
    with contextlib.suppress(subprocess.TimeoutExpired):
        corrupt.popen.wait(timeout=90)
    exit_code = corrupt.popen.poll()
    errors = log_errors(corrupt.popen.log_path)
    checks = [line for line in errors if re.search(r"\(\w+\.E\d+\)", line)]
    start = {"refused_to_start": exit_code is not None, "exit_code": exit_code,
             "message": (checks or errors)[:1]}
    if exit_code is not None:
        site.stop_process(corrupt)
        corrupt = site.start_cluster(args.workers, env, options=("--skip-checks",))
    run = load(clients, log, "model", args.fault_minutes * 60)
    drained = drain(site, args.drain_minutes * 60)
    site.stop_process(corrupt)
    text = corrupt.popen.log_path.read_text(errors="replace")
    said = [line for line in text.splitlines() if "cannot load the recognizer" in line]
    result = phase_result(site, log, "model", run, drained)
    result["start"] = start
    result["worker_log"] = {"load_errors": len(said), "example": said[0][:300] if said else "",
                            "tracebacks": text.count("Traceback")}
    return result, site.start_cluster(args.workers)


def log_errors(path: Path) -> list[str]:
    """The error lines of a process's log (a system check's, a logged ERROR)."""
    return [line.strip()[:300] for line in path.read_text(errors="replace").splitlines()
            if re.search(r"\(\w+\.E\d+\)|\bERROR\b|CRITICAL|Error:", line)]


def busy_workers(cluster) -> list:
    """The cluster's worker processes running a task now (model loaded, using the CPU)."""
    import psutil

    def measure(process, call):
        try:
            return call(process)
        except psutil.Error:  # it exited meanwhile
            return 0

    workers = [p for p in cluster.children(recursive=True)
               if measure(p, lambda p: p.memory_info().rss) > 300 * 2**20]
    for worker in workers:
        measure(worker, lambda p: p.cpu_percent(None))
    time.sleep(0.5)
    return [w for w in workers if measure(w, lambda p: p.cpu_percent(None)) > 20]


def kill_phase(site: Site, clients: list[Client], log: Log, args, cluster, pdf: bytes):
    """A 20-page PDF, busy workers SIGKILLed mid-way; returns (result, the cluster)."""
    site.stop_process(cluster)
    cluster = site.start_cluster(args.workers, {
        "NOTES_TASK_TIMEOUT": str(args.kill_task_timeout),
        "NOTES_JOB_STALL_SECONDS": str(args.stall_seconds)})
    owner = site.session("bench")
    response = owner.post(site.url + "/notes/upload/", files={"files": ("scan.pdf", pdf)},
                          headers={"Accept": "application/json", "Referer": site.url + "/",
                                   "X-CSRFToken": owner.cookies["csrftoken"]}, timeout=120)
    assert response.status_code == 201, response.text[:300]
    note = response.json()["notes"][0]
    log.uploaded.append(("kill", note))

    def fault(start: float) -> dict:
        page = 0
        while page < args.kill_at_page and time.monotonic() - start < 900:
            site.check_alive()
            page = site.query(f"select pages_done from recognition_note where id = {note}")[0][0]
            time.sleep(0.5)
        victims = busy_workers(cluster)
        for victim in victims:
            victim.kill()
        return {"killed_workers": len(victims), "killed_at_page": page,
                "killed_at_s": time.monotonic() - start}

    run = load(clients, log, "kill", args.fault_minutes * 60, fault)
    drained = drain(site, args.drain_minutes * 60)
    result = phase_result(site, log, "kill", run, drained)
    result.update(task_timeout=args.kill_task_timeout, stall=args.stall_seconds)
    status, pages_done, total = site.query(
        f"select status, pages_done, pages_total from recognition_note where id = {note}")[0]
    result["pdf"] = {
        "status": status, "pages_done": pages_done, "pages_total": total,
        "pages_stored": site.query(
            f"select count(*) from recognition_page where note_id = {note}")[0][0],
        "jobs": [f"{s} (attempts {a}){': ' + e if e else ''}" for s, a, e in site.query(
            "select status, attempts, error from recognition_recognitionjob "
            f"where note_id = {note} order by id")],
    }
    return result, cluster


def disk_fill(mount: Path, slack: int) -> int:
    """Fill the tmpfs with a filler file, leaving about `slack` bytes; returns bytes free."""
    filler = mount / "filler"
    filler.unlink(missing_ok=True)
    with filler.open("wb", buffering=0) as out:  # unbuffered: closing it cannot fail
        for chunk in (2**20, 2**12):
            with contextlib.suppress(OSError):
                while True:
                    out.write(b"\0" * chunk)
    if slack:
        os.truncate(filler, max(0, filler.stat().st_size - slack))
    return shutil.disk_usage(mount).free


def disk_phase(args, photos: list[bytes], folder: Path, log: Log) -> dict:
    """A site of its own, its media on a small tmpfs, filled half-way through the phase."""
    mount = folder / "tmpfs"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={args.tmpfs_mb}m", "tmpfs", str(mount)],
                   check=True)
    name = f"under_fire_{os.getpid()}_disk"
    try:
        url = live_site.postgres_database_create(name) if args.database == "postgres" else None
        site = Site(folder / "disk-site", database_url=url, media_root=mount / "media")
        try:
            site.start_web()
            site.start_cluster(args.workers)
            site.start_cluster(1, name="instant")
            clients = clients_start(site, args.clients, photos, log, args)
            step = args.fault_minutes * 15

            def fault(start: float) -> dict:
                time.sleep(step)
                full = time.monotonic()
                free = [disk_fill(mount, 0)]
                time.sleep(step)
                free.append(disk_fill(mount, 3 * max(map(len, photos)) // 2))
                time.sleep(step)
                (mount / "filler").unlink()
                return {"window": (full, time.monotonic()), "free_bytes_when_filled": free}

            run = load(clients, log, "disk", args.fault_minutes * 60, fault)
            drained = drain(site, args.drain_minutes * 60)
            full, freed = run.pop("window")
            result = phase_result(site, log, "disk", run, drained, [(full, freed)])
            uploads = [r for r in log.of("disk") if r.kind == "upload"]
            refused = [r for r in uploads if overlaps(r, [(full, freed)])]
            result["uploads_while_full"] = {
                "ok": sum(r.status == 201 for r in refused),
                "4xx": sum(400 <= r.status < 500 for r in refused),
                "5xx": sum(r.status >= 500 for r in refused),
                "no_answer": sum(r.status == 0 for r in refused),
                "unreadable": sum(r.status >= 400 and not readable_error(r.message)
                                  for r in refused),
                "messages": sorted({f"{r.status}: {r.message}"[:200]
                                    for r in refused if r.status >= 400})[:5]}
            result["uploads_after_freeing"] = {
                "ok": sum(r.status == 201 for r in uploads if r.start > freed),
                "refused": sum(r.status != 201 for r in uploads if r.start > freed)}
            result["media"] = media_check(site.query, mount / "media")
        finally:
            site.stop()
            if url:
                live_site.postgres_database_drop(name)
    finally:
        subprocess.run(["umount", str(mount)], check=False)
        if os.path.ismount(mount):
            subprocess.run(["umount", "-l", str(mount)], check=False)
    return result


# The run ----------------------------------------------------------------------------------------

def main_site(args, photos: list[bytes], pdf: bytes, folder: Path, log: Log) -> dict:
    """Phases load, postgres, model and kill, on one site and database."""
    name = f"under_fire_{os.getpid()}"
    url = live_site.postgres_database_create(name) if args.database == "postgres" else None
    phases: dict = {}
    try:
        site = Site(folder / "site", database_url=url)
        try:
            site.start_web()
            cluster = site.start_cluster(args.workers)
            site.start_cluster(1, name="instant")
            clients = clients_start(site, args.clients, photos, log, args)
            if "load" in args.phases:
                run = load(clients, log, "load", args.minutes * 60)
                phases["load"] = phase_result(site, log, "load", run,
                                              drain(site, args.drain_minutes * 60))
            if "postgres" in args.phases and url:
                phases["postgres"] = postgres_phase(site, clients, log, args)
            if "model" in args.phases:
                phases["model"], cluster = model_phase(site, clients, log, args, cluster,
                                                       folder)
            if "kill" in args.phases:
                phases["kill"], cluster = kill_phase(site, clients, log, args, cluster, pdf)
        finally:
            site.stop()
    finally:
        if url:
            live_site.postgres_database_drop(name)
    return phases


# Report -----------------------------------------------------------------------------------------

TITLES = {"load": "1. Load", "postgres": "2. PostgreSQL restarted", "model": "3. Corrupt model",
          "kill": "4. Worker killed mid-PDF", "disk": "5. Media disk full"}


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms"


def findings(results: dict) -> list[str]:
    """What the run found wrong, in plain words (empty: everything held)."""
    found = []
    for name, phase in results["phases"].items():
        calm = phase["requests"]["all"]
        if calm["5xx"] or calm["no_answer"]:
            found.append(f"{name}: {calm['5xx']} answers 5xx and {calm['no_answer']} requests "
                         "without an answer outside the fault window "
                         f"({'; '.join(phase['requests']['errors'][:3])}).")
        notes = phase["notes"]
        for key in ("stuck", "lost", "failed_unreadable"):
            if notes[key]:
                found.append(f"{name}: {notes[key]} notes {key.replace('_', ' ')}.")
        for key, count in phase["invariants"].items():
            if count:
                found.append(f"{name}: {key.replace('_', ' ')}: {count}.")
    phases = results["phases"]
    if "load" in phases and (phases["load"]["requests"]["all"]["p95_ms"] or 0) > 300:
        found.append(f"load: p95 {ms(phases['load']['requests']['all']['p95_ms'])} is over the "
                     "300 ms target.")
    if "model" in phases:
        if not phases["model"]["worker_log"]["load_errors"]:
            found.append("model: a worker that starts on the bad file does not log that it "
                         "cannot load the model (its jobs fail at the first task).")
        if not phases["model"]["start"]["refused_to_start"]:
            found.append("model: the cluster started on a corrupt model file.")
        if phases["model"]["notes"]["done"]:
            found.append("model: notes were recognized with a corrupt model file.")
    if "kill" in phases and not phases["kill"]["killed_workers"]:
        found.append("kill: no busy worker was found to kill.")
    if "kill" in phases and phases["kill"]["pdf"]["status"] != "done":
        found.append(f"kill: the PDF ended {phases['kill']['pdf']['status']}.")
    if "disk" in phases:
        full, media = phases["disk"]["uploads_while_full"], phases["disk"]["media"]
        if full["5xx"] or full["no_answer"] or full["unreadable"]:
            found.append(f"disk: uploads to a full disk answered 5xx {full['5xx']} times, no "
                         f"answer {full['no_answer']}, unreadable {full['unreadable']} "
                         f"({'; '.join(full['messages'][:2])}).")
        for key, count in media.items():
            if count:
                found.append(f"disk: {key.replace('_', ' ')}: {count}.")
        if not phases["disk"]["uploads_after_freeing"]["ok"]:
            found.append("disk: no upload succeeded after the space was freed.")
    return found


def report(results: dict) -> str:
    phases = results["phases"]
    out = [f"# Proof under fire\n\n`{results['command']}` on {results['machine']}, "
           f"{results['date']}; {results['total_minutes']:.1f} minutes in all.\n\n"
           f"The site as the Procfile runs it: gunicorn (2 processes), the `worker` cluster "
           f"({results['workers']} recognition workers, niced) and the `instant` cluster, on "
           f"{results['database']}, over loopback HTTP. {results['clients']} clients, each a "
           f"user with its own session, think {results['think']:.1f} s on average between "
           "requests, one note in recognition at a time, an upload at most every "
           f"{results['upload_every']:.0f} s or so. After each phase the clients stop and the "
           "queue drains; then the checks.\n",
           "| phase | run | drain | requests | 5xx | no answer | in fault window | p50 | p95 "
           "| p95 without uploads | notes up / done / failed / stuck / lost (run again) |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, phase in phases.items():
        calm, fault, notes = (phase["requests"]["all"], phase["requests"]["in_fault"],
                              phase["notes"])
        out.append(f"| {TITLES[name]} | {phase['run_seconds']:.0f} s | "
                   f"{phase['drain_seconds']:.0f} s | {calm['requests']} | {calm['5xx']} | "
                   f"{calm['no_answer']} | {fault['requests']} ({fault['5xx']} 5xx, "
                   f"{fault['no_answer']} no answer) | {ms(calm['p50_ms'])} | "
                   f"{ms(calm['p95_ms'])} | {ms(phase['requests']['without_uploads']['p95_ms'])} "
                   f"| {notes['uploaded']} / {notes['done']} / "
                   f"{notes['failed']} / {notes['stuck']} / {notes['lost']} "
                   f"({notes['run_again']}) |")
    for name, phase in phases.items():
        out.append(f"\n## {TITLES[name]}\n\n" + phase_text(name, phase))
        out += ["| request | count | ok | 4xx | 5xx | no answer | p50 | p95 | max |",
                "|---|---|---|---|---|---|---|---|---|"]
        for kind, s in phase["requests"]["kinds"].items():
            out.append(f"| {kind} | {s['requests']} | {s['ok']} | {s['4xx']} | {s['5xx']} | "
                       f"{s['no_answer']} | {ms(s['p50_ms'])} | {ms(s['p95_ms'])} | "
                       f"{ms(s['max_ms'])} |")
        if phase["notes"]["failures"]:
            out.append("\nFailures as the user reads them: " + "; ".join(
                f"“{f}”" for f in phase["notes"]["failures"]))
    out += ["\n## Database checks after each drain (all must be 0)\n",
            "| check | " + " | ".join(phases) + " |", "|---|" + "---|" * len(phases)]
    for key in INVARIANTS:
        out.append(f"| {key.replace('_', ' ')} | " + " | ".join(
            str(p["invariants"][key]) for p in phases.values()) + " |")
    found = findings(results)
    out.append("\n## Findings\n\n" + ("\n".join(f"- {f}" for f in found) if found else
                                      "None: every check held."))
    out.append(f"\nRaw numbers: `{results['json']}`.\n")
    return "\n".join(out)


def phase_text(name: str, p: dict) -> str:
    """The phase's own facts, in a sentence or two."""
    if name == "load":
        return (f"{p['run_seconds']:.0f} s of the mix, then {p['drain_seconds']:.0f} s to drain "
                "the queue.\n")
    if name == "postgres":
        return (f"PostgreSQL restarted {p['run_seconds'] / 2:.0f} s in (`pg_ctlcluster restart "
                f"-m fast`, {p['restart_seconds']:.1f} s); the site answered 5 page requests "
                f"in a row {p['site_back_after_s']:.1f} s after the restart began. Requests in "
                f"flight meanwhile are counted apart. Clusters still running afterwards: "
                f"{'yes' if p['clusters_alive'] else 'no'}.\n")
    if name == "model":
        start, log = p["start"], p["worker_log"]
        said = start["message"][0] if start["message"] else "no message"
        refusal = (f"refused to start (exit {start['exit_code']}): `{said}`"
                   if start["refused_to_start"] else "started all the same")
        return (f"NOTES_MODEL_PATH on a copy of crnn.pt cut to a third (the LM beside it). The "
                f"worker cluster, started as the Procfile starts it, {refusal}. Then started "
                "with --skip-checks (as a worker recycled after the file went bad would load "
                f"it) for the phase; its log: {log['load_errors']} start-up error line(s) "
                f"`{log['example'] or 'none'}`, {log['tracebacks']} tracebacks (operator "
                "log).\n")
    if name == "kill":
        pdf = p["pdf"]
        return (f"A 20-page scanned PDF first in the queue (task timeout "
                f"{p['task_timeout']} s, job stall check {p['stall']} s); at "
                f"page {p['killed_at_page']} ({p['killed_at_s']:.0f} s) {p['killed_workers']} "
                f"busy worker(s) SIGKILLed. The PDF ended **{pdf['status']}**, "
                f"{pdf['pages_done']}/{pdf['pages_total']} pages, {pdf['pages_stored']} page "
                f"rows; its jobs: {'; '.join(pdf['jobs'])}.\n")
    full, after, media = p["uploads_while_full"], p["uploads_after_freeing"], p["media"]
    return (f"Media on a tmpfs; filled (free bytes left: {p['free_bytes_when_filled']}) from a "
            "quarter to three quarters of the phase, then emptied. Uploads while full: "
            f"{full['ok']} stored, {full['4xx']} refused 4xx, {full['5xx']} 5xx, "
            f"{full['no_answer']} without answer, {full['unreadable']} unreadable; what they "
            f"said: {'; '.join(f'“{m}”' for m in full['messages']) or '–'}. After freeing: "
            f"{after['ok']} stored, {after['refused']} refused. Media check: "
            + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in media.items()) + ".\n")


# Main -------------------------------------------------------------------------------------------

def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="the load phase")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "under_fire.md")
    parser.add_argument("--phases", default="load,postgres,model,kill,disk")
    parser.add_argument("--fault-minutes", type=float, default=2, help="each fault phase")
    parser.add_argument("--drain-minutes", type=float, default=10, help="the most to wait")
    parser.add_argument("--workers", type=int, default=2, help="recognition workers")
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds between requests")
    parser.add_argument("--upload-every", type=float, default=30.0)
    parser.add_argument("--kill-task-timeout", type=int, default=600)
    parser.add_argument("--stall-seconds", type=int, default=30)
    parser.add_argument("--kill-at-page", type=int, default=5)
    parser.add_argument("--tmpfs-mb", type=int, default=64)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    args.phases = args.phases.split(",")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    # A SIGTERM unwinds like Ctrl-C, so that every `finally` stops what it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    photos, pdf = inputs(6, 20, args.seed)
    folder = Path(tempfile.mkdtemp(prefix="under_fire-"))
    log = Log()
    results = {
        "command": "python bench/under_fire.py " + " ".join(sys.argv[1:] if argv is None
                                                             else argv),
        "machine": machine(), "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "database": "PostgreSQL" if args.database == "postgres" else "SQLite",
        "clients": args.clients, "workers": args.workers, "think": args.think,
        "upload_every": args.upload_every, "photo_kb": [len(p) // 1024 for p in photos],
        "pdf_kb": len(pdf) // 1024, "json": str(args.out.with_suffix(".json").name),
    }
    try:
        phases = main_site(args, photos, pdf, folder, log)
        if "disk" in args.phases:
            phases["disk"] = disk_phase(args, photos, folder, log)
    finally:
        print(f"logs of the site's processes: {folder}", flush=True)
    results["phases"] = phases
    results["total_minutes"] = (time.monotonic() - started) / 60
    results["findings"] = findings(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report(results))
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    print(f"wrote {args.out}")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.machine())
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GB"


if __name__ == "__main__":
    main()
