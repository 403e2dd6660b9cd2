"""The under-fire benchmark's pure parts: statistics, readable failures, the database checks
(on a tiny SQLite schema of the tables they read) and the report. No live site."""

from __future__ import annotations

import json
import sqlite3

import pytest
import requests

from bench import under_fire
from bench.under_fire import Record

SCHEMA = """
create table recognition_note (id integer primary key, status text, error text default '',
    pages_done integer default 1, pages_total integer default 1, original text default '',
    size integer default 0, thumbnail text default '');
create table recognition_page (id integer primary key, note_id integer, number integer,
    recognized boolean default 1, image text default '');
create table recognition_line (id integer primary key, page_id integer, "order" integer);
create table recognition_recognitionjob (id integer primary key, note_id integer, status text);
create table recognition_revision (id integer primary key, note_id integer, kind text);
"""


@pytest.fixture
def db():
    """A consistent database: note 1 done (one page, two lines, one job, one revision)."""
    connection = sqlite3.connect(":memory:")
    connection.executescript(SCHEMA + """
        insert into recognition_note (id, status) values (1, 'done');
        insert into recognition_page (id, note_id, number) values (1, 1, 1);
        insert into recognition_line (page_id, "order") values (1, 0), (1, 1);
        insert into recognition_recognitionjob (note_id, status) values (1, 'done');
        insert into recognition_revision (note_id, kind) values (1, 'machine');
    """)
    yield connection
    connection.close()


def query(connection):
    return lambda sql: connection.execute(sql).fetchall()


def record(kind="list", status=200, seconds=0.1, start=0.0, message=""):
    return Record("load", kind, status, seconds, start, message)


def test_summarize_counts_statuses_and_latency_percentiles():
    records = [record(seconds=s / 1000) for s in range(1, 101)] + [record(status=502)]
    stats = under_fire.summarize(records)["all"]
    assert (stats["requests"], stats["ok"], stats["5xx"], stats["no_answer"]) == (101, 100, 1, 0)
    assert stats["p50_ms"] == pytest.approx(51)
    assert stats["p95_ms"] == pytest.approx(96)


def test_summarize_leaves_no_answer_out_of_latencies():
    stats = under_fire.summarize([record(seconds=0.2), record(status=0, seconds=30)])["all"]
    assert stats["no_answer"] == 1
    assert stats["max_ms"] == pytest.approx(200)


def test_summarize_counts_requests_in_a_fault_window_apart():
    records = [record(start=0, seconds=1), record(status=500, start=9, seconds=2),
               record(status=0, start=12, seconds=1), record(start=20, seconds=1)]
    summary = under_fire.summarize(records, [(10, 15)])
    assert (summary["all"]["requests"], summary["all"]["5xx"]) == (2, 0)
    assert (summary["in_fault"]["5xx"], summary["in_fault"]["no_answer"]) == (1, 1)


def test_summarize_breaks_down_by_kind():
    summary = under_fire.summarize([record("upload", 201), record("edit", 409)])
    assert summary["kinds"]["upload"]["ok"] == 1
    assert summary["kinds"]["edit"]["4xx"] == 1
    assert "search" not in summary["kinds"]


@pytest.mark.parametrize("text", [
    "Page 2 could not be read: the image is empty.",
    "Recognition failed unexpectedly (CheckpointError). Retry it, or contact us if it fails "
    "again.",
])
def test_readable_error_accepts_messages_for_people(text):
    assert under_fire.readable_error(text)


@pytest.mark.parametrize("text", [
    "", "   ", "Traceback (most recent call last):\n  File \"x\", line 1",
    "cannot open /work/main/ml/weights/crnn.pt", "error in runs.py line 40", "x" * 501,
])
def test_readable_error_rejects_tracebacks_paths_and_silence(text):
    assert not under_fire.readable_error(text)


def response(status: int, body: bytes, content_type: str) -> requests.Response:
    answer = requests.Response()
    answer.status_code, answer._content = status, body
    answer.headers["Content-Type"] = content_type
    return answer


def test_answer_message_reads_the_json_error_message():
    body = json.dumps({"error": {"code": "invalid", "message": "Disk is full.", "fields": {}}})
    assert under_fire.answer_message(
        response(400, body.encode(), "application/json")) == "Disk is full."


def test_answer_message_reads_an_html_heading():
    page = b"<html><title>Oops</title><h1>Server\n Error <b>(500)</b></h1></html>"
    assert under_fire.answer_message(response(500, page, "text/html")) == "Server Error (500)"


def test_invariants_hold_on_a_consistent_database(db):
    assert set(under_fire.invariants(query(db)).values()) == {0}


def test_invariants_find_a_page_stored_twice(db):
    db.execute("insert into recognition_page (note_id, number) values (1, 1)")
    checks = under_fire.invariants(query(db))
    assert checks["pages_stored_twice"] == 1
    assert checks["done_without_all_pages"] == 1


def test_invariants_find_a_line_stored_twice(db):
    db.execute('insert into recognition_line (page_id, "order") values (1, 1)')
    assert under_fire.invariants(query(db))["lines_stored_twice"] == 1


def test_invariants_find_a_note_recognized_twice(db):
    db.execute("insert into recognition_recognitionjob (note_id, status) values (1, 'done')")
    db.execute("insert into recognition_revision (note_id, kind) values (1, 'machine')")
    checks = under_fire.invariants(query(db))
    assert (checks["notes_recognized_twice"], checks["machine_revisions_twice"]) == (1, 1)


def test_invariants_allow_a_stalled_job_then_a_done_one(db):
    db.execute("insert into recognition_recognitionjob (note_id, status) values (1, 'failed')")
    assert set(under_fire.invariants(query(db)).values()) == {0}


def test_invariants_find_stuck_notes_and_jobs(db):
    db.execute("insert into recognition_note (id, status) values (2, 'processing')")
    db.execute("insert into recognition_recognitionjob (note_id, status) values (2, 'running')")
    checks = under_fire.invariants(query(db))
    assert (checks["notes_stuck"], checks["jobs_stuck"]) == (1, 1)


def test_outcomes_count_done_failed_stuck_and_lost(db):
    db.execute("insert into recognition_note (id, status, error) values "
               "(2, 'failed', 'Page 1 could not be read: blank.'), "
               "(3, 'failed', 'Traceback (most recent call last)'), (4, 'queued', '')")
    db.execute("insert into recognition_recognitionjob (note_id, status) values (1, 'failed')")
    result = under_fire.outcomes(query(db), [1, 2, 3, 4, 99])
    assert {k: result[k] for k in ("uploaded", "done", "failed", "failed_unreadable", "stuck",
                                   "lost", "run_again")} == {
        "uploaded": 5, "done": 1, "failed": 2, "failed_unreadable": 1, "stuck": 1, "lost": 1,
        "run_again": 1}


def test_media_check_finds_missing_truncated_and_orphan_files(db, tmp_path):
    (tmp_path / "notes" / "a").mkdir(parents=True)
    (tmp_path / "notes" / "a" / "original.jpg").write_bytes(b"12345")
    (tmp_path / "notes" / "a" / "half.jpg").write_bytes(b"12")
    db.execute("update recognition_note set original = 'notes/a/original.jpg', size = 5 "
               "where id = 1")
    db.execute("insert into recognition_note (id, status, original, size) values "
               "(2, 'done', 'notes/b/gone.jpg', 5), (3, 'done', 'notes/a/half.jpg', 9)")
    assert under_fire.media_check(query(db), tmp_path) == {
        "notes_without_original": 1, "originals_wrong_size": 1, "notes_without_thumbnail": 0,
        "files_without_row": 0}
    (tmp_path / "notes" / "a" / "left.jpg").write_bytes(b"1")
    assert under_fire.media_check(query(db), tmp_path)["files_without_row"] == 1


def phase(**changes) -> dict:
    result = {
        "run_seconds": 60.0, "drain_seconds": 5.0,
        "requests": under_fire.summarize([record("upload", 201), record("list", 200)]),
        "notes": {"uploaded": 1, "done": 1, "failed": 0, "failed_unreadable": 0, "stuck": 0,
                  "lost": 0, "run_again": 0, "failures": []},
        "invariants": dict.fromkeys(under_fire.INVARIANTS, 0),
    }
    result.update(changes)
    return result


def results(**phases) -> dict:
    return {"command": "python bench/under_fire.py --minutes 1", "machine": "test, 2 cores",
            "date": "2026-01-01 10:00", "total_minutes": 3.0, "workers": 2,
            "database": "PostgreSQL", "clients": 8, "think": 2.0, "upload_every": 30.0,
            "json": "under_fire.json", "phases": phases}


def test_report_renders_each_phase_and_says_when_everything_held():
    text = under_fire.report(results(load=phase()))
    assert "| 1. Load | 60 s | 5 s | 2 | 0 | 0 |" in text
    assert "| upload | 1 | 1 | 0 | 0 | 0 |" in text
    assert "None: every check held." in text


def test_findings_name_a_5xx_outside_a_fault_and_a_stuck_note():
    bad = phase(requests=under_fire.summarize([record(status=500, message="Server Error")]))
    bad["notes"]["stuck"] = 2
    found = under_fire.findings(results(load=bad))
    assert found[0].startswith("load: 1 answers 5xx")
    assert "load: 2 notes stuck." in found


def test_findings_report_a_disk_full_answered_500():
    disk = phase(uploads_while_full={"ok": 0, "4xx": 0, "5xx": 3, "no_answer": 0,
                                     "unreadable": 0, "messages": ["500: Server Error (500)"]},
                 uploads_after_freeing={"ok": 2, "refused": 0},
                 media=dict.fromkeys(["notes_without_original", "files_without_row"], 0),
                 free_bytes_when_filled=[0, 1000])
    found = under_fire.findings(results(disk=disk))
    assert found == ["disk: uploads to a full disk answered 5xx 3 times, no answer 0, "
                     "unreadable 0 (500: Server Error (500))."]
    assert "Uploads while full: 0 stored, 0 refused 4xx, 3 5xx" in under_fire.report(
        results(disk=disk))


def test_log_errors_picks_a_system_check_error_and_logged_errors(tmp_path):
    log = tmp_path / "qcluster.log"
    log.write_text("SystemCheckError: System check identified some issues:\n\nERRORS:\n"
                   "?: (recognition.E001) The model file is not a model file.\n"
                   "2026-01-01 10:00:00,000 INFO django-q: started\n"
                   "2026-01-01 10:00:01,000 ERROR recognition.worker: cannot load\n")
    assert under_fire.log_errors(log) == [
        "SystemCheckError: System check identified some issues:",
        "?: (recognition.E001) The model file is not a model file.",
        "2026-01-01 10:00:01,000 ERROR recognition.worker: cannot load"]
