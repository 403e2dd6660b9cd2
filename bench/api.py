"""API benchmark: upload-to-text time for a one-page photo, and list/detail latency with 1,000
notes.

    python bench/api.py [--out bench/results/api.md] [--database-url postgres://...]

A site as `make run` starts it (gunicorn with 2 processes, `manage.py qcluster` with 2 idle
workers, SQLite by default or the given DATABASE_URL), driven over loopback HTTP by `requests`
with a token, as a phone app would:

1. Upload-to-text: POST /api/v1/notes/ with a 5 MB, 12-megapixel photo of a notes page, then
   poll /api/v1/jobs/{id}/ every 50 ms until the note is done (target ≤ 5 s, workers idle).
   Median of 5, the first (which loads the model into the worker) reported apart.
2. Reads with 1,000 notes of 1 page and 25 lines each (written straight into the database):
   the notes list (a page of 20, default order and by title, and filtered by collection), a
   note's detail (with its 25 lines), its pages and a line; 100 requests each, median and p95
   (target ≤ 50 ms median).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.live_site import Site  # noqa: E402
from bench.platform_load import note_pages, phone_photo  # noqa: E402

SEED_NOTES = """
import random
from django.contrib.auth.models import User
from django.db import transaction
from recognition.models import Collection, Line, Note, Page, Revision
from recognition.revisions import revision_record
from wordfreq import top_n_list

words = top_n_list("en", 5000)
rng = random.Random(7)
user = User.objects.get(username="bench")
collections = [Collection.objects.create(owner=user, name=f"Notebook {i}") for i in range(10)]
with transaction.atomic():
    notes = Note.objects.bulk_create([
        Note(owner=user, collection=collections[i % 10], title=" ".join(rng.sample(words, 3)),
             kind="image", content_type="image/jpeg", size=1, sha256="0",
             original=f"notes/seed/{i}.jpg", status="done", pages_total=1, pages_done=1)
        for i in range(__COUNT__)])
    pages = Page.objects.bulk_create([
        Page(note=note, number=1, image=f"notes/seed/{note.pk}.jpg", width=1240, height=1754,
             recognized=True) for note in notes])
    lines = []
    for page in pages:
        for order in range(25):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(3, 9)))
            lines.append(Line(page=page, order=order, text=text, machine_text=text,
                              confidence=rng.random(), polygon=[[100, 60 * order + 100],
                              [1100, 60 * order + 100], [1100, 60 * order + 150],
                              [100, 60 * order + 150]],
                              words=[{"text": w, "confidence": 0.9, "alternatives": []}
                                     for w in text.split()]))
    Line.objects.bulk_create(lines)
    for note in notes:
        revision_record(note=note, kind=Revision.Kind.MACHINE, summary="seeded")
print(Note.objects.count())
"""


def recreate_database(url: str) -> None:
    """An empty PostgreSQL database of that name (the benchmark's own, dropped first)."""
    from urllib.parse import urlparse

    import psycopg

    name = urlparse(url).path.lstrip("/")
    server = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def token_session(site: Site) -> requests.Session:
    session = requests.Session()
    response = session.post(site.url + "/api/v1/auth/token/",
                            json={"username": "bench", "password": "benchmark passphrase 2026"})
    response.raise_for_status()
    session.headers["Authorization"] = f"Token {response.json()['token']}"
    return session


def upload_to_text(site: Site, session: requests.Session, photo: bytes) -> float:
    start = time.perf_counter()
    response = session.post(site.url + "/api/v1/notes/", files={"file": ("page.jpg", photo)})
    assert response.status_code == 202, response.text[:300]
    [note] = response.json()["notes"]
    while True:
        job = session.get(f"{site.url}/api/v1/jobs/{note['job']}/").json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    detail = session.get(f"{site.url}/api/v1/notes/{note['id']}/").json()
    assert detail["status"] == "done" and detail["text"], detail
    return elapsed


def timed(session: requests.Session, url: str, repeats: int) -> dict:
    session.get(url).raise_for_status()  # warm
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        response = session.get(url)
        seconds.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text[:300]
    return {"median_ms": 1000 * statistics.median(seconds),
            "p95_ms": 1000 * float(np.percentile(seconds, 95))}


def run(database_url: str | None, notes: int, repeats: int) -> dict:
    photo = phone_photo(note_pages(1, seed=99)[0])
    with tempfile.TemporaryDirectory() as tmp:
        if database_url:
            recreate_database(database_url)
            os.environ["DATABASE_URL"] = database_url
        site = Site(Path(tmp))
        try:
            site.start_web()
            site.start_cluster(workers=2)
            session = token_session(site)
            first = upload_to_text(site, session, photo)
            time.sleep(1)
            uploads = []
            for _ in range(5):
                uploads.append(upload_to_text(site, session, photo))
                time.sleep(1)  # the workers idle again
            site.manage("shell", "-v", "0", "-c", SEED_NOTES.replace("__COUNT__", str(notes)))
            listing = session.get(site.url + "/api/v1/notes/").json()
            note_id = listing["results"][0]["id"]
            detail = session.get(f"{site.url}/api/v1/notes/{note_id}/").json()
            line_id = detail["lines"][0]["id"]
            collection = detail["collection"]
            reads = {
                "GET /notes/ (page of 20)": timed(session, site.url + "/api/v1/notes/", repeats),
                "GET /notes/?ordering=title": timed(
                    session, site.url + "/api/v1/notes/?ordering=title", repeats),
                "GET /notes/?collection=N": timed(
                    session, f"{site.url}/api/v1/notes/?collection={collection}", repeats),
                "GET /notes/{id}/ (25 lines)": timed(
                    session, f"{site.url}/api/v1/notes/{note_id}/", repeats),
                "GET /notes/{id}/pages/": timed(
                    session, f"{site.url}/api/v1/notes/{note_id}/pages/", repeats),
                "GET /lines/{id}/": timed(session, f"{site.url}/api/v1/lines/{line_id}/",
                                          repeats),
            }
        finally:
            site.stop()
            os.environ.pop("DATABASE_URL", None)
    return {"database": "PostgreSQL" if database_url else "SQLite",
            "photo_mb": len(photo) / 2**20, "first_upload_s": first,
            "upload_to_text_median_s": statistics.median(uploads),
            "upload_to_text_max_s": max(uploads), "notes": listing["count"], "reads": reads}


def report(results: dict) -> str:
    runs = results["runs"]
    rows = "\n".join(
        f"| {r['database']} | {r['upload_to_text_median_s']:.2f} s | "
        f"{r['upload_to_text_max_s']:.2f} s | {r['first_upload_s']:.2f} s |" for r in runs)
    reads = "\n".join(
        f"| `{name}` | " + " | ".join(
            f"{r['reads'][name]['median_ms']:.1f} / {r['reads'][name]['p95_ms']:.1f} ms"
            for r in runs) + " |"
        for name in runs[0]["reads"])
    header = " | ".join(f"{r['database']} median / p95" for r in runs)
    return f"""# API benchmark

`python bench/api.py` on {results["machine"]}, {results["date"]}: gunicorn (2 processes) and
`manage.py qcluster` (2 workers) as `make run` starts them, a `requests` client with a token over
loopback HTTP.

## Upload to text, one-page photo (target ≤ 5 s with the workers idle)

A {runs[0]["photo_mb"]:.1f} MB, 12-megapixel photo of a notes page: POST /api/v1/notes/, then
GET /api/v1/jobs/{{id}}/ every 50 ms until done. 5 uploads after a first one (which also loads
the model into the worker, once per worker process).

| database | median | slowest | first upload (model load) |
|---|---|---|---|
{rows}

## Reads with {runs[0]["notes"]} notes (1 page, 25 lines each; target ≤ 50 ms median)

100 requests each, after one warm-up.

| request | {header} |
|---|{"---|" * len(runs)}
{reads}

Raw numbers: `bench/results/api.json`.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "api.md")
    parser.add_argument("--database-url", action="append", default=[],
                        help="Also run against this database (repeatable).")
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=100)
    args = parser.parse_args()
    runs = [run(None, args.notes, args.repeats)]
    print(json.dumps(runs[-1]), flush=True)
    for url in args.database_url:
        runs.append(run(url, args.notes, args.repeats))
        print(json.dumps(runs[-1]), flush=True)
    results = {"machine": f"{platform.machine()}, {os.cpu_count()} cores",
               "date": date.today().isoformat(), "runs": runs}
    args.out.write_text(report(results))
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
