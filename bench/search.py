"""Search benchmark: query latency on SQLite and PostgreSQL, recall and precision of typos.

    python bench/search.py [--lines 100000] [--postgres postgres://postgres@127.0.0.1:5432/test]
                           [--out bench/results/search.md]

1. Corpus: 5,000 notes of 20 lines (100,000 lines) of note-like text (`ml.synth.text`: wordfreq
   vocabulary, lists, dates, prices, e-mail addresses...), "recognized" through a synthetic
   error model: inside words, characters are substituted, deleted or inserted, to a character
   error rate of about 10% (spaces are kept, so the n-th recognized word is a reading of the
   n-th written word). Each word gets top-3 alternative readings the way the recognizer gives
   them: its reading, the written word for 40% of misread words, and another misreading. The
   committed model is not run: 100,000 line images would take hours on this machine.
2. Both databases, in one run, each fresh (SQLite in a temporary folder, PostgreSQL in a
   database made for the run): rows inserted, then every note indexed through
   `recognition.search.index.note_index` (what the `note_text_changed` signal calls), then on
   PostgreSQL `VACUUM ANALYZE`, as autovacuum does after a bulk load.
3. Latency of what the search page does for one query (`SearchResults`: count, first 20 hits
   with snippets), 100 queries of each kind: a correctly spelled word, a two-word phrase from a
   line, a prefix (`photo*`), a word with a typo (one edit for 4-7 letters, two from 8).
4. Typo tolerance: 200 misread words (recognized form 1 or 2 edits from the written word, the
   written word at least 4 letters). Recall: the written word as query finds the line; also
   without the alternative readings (text and fuzzy tiers only). Precision: the share of lines
   found whose written text holds the word (all hits, and the first 20).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import string
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LINES_PER_NOTE = 20
QUERIES_PER_KIND = 100
RECALL_WORDS = 200
CER = 0.10
SEED = 2026
BENCH_DATABASE = "notes_search_bench"
TARGETS = {"sqlite": {"median": 300}, "postgresql": {"median": 100, "p95": 250}}


# Corpus ----------------------------------------------------------------------------------------

def misread(word: str, rng: random.Random, cer: float) -> str:
    """A reading of `word` with character errors at rate `cer`: substitutions (half),
    deletions and insertions (a quarter each)."""
    out = []
    for ch in word:
        roll = rng.random()
        if roll < cer / 2:
            out.append(rng.choice(string.ascii_lowercase))
        elif roll < cer * 3 / 4:
            continue
        elif roll < cer:
            out += [ch, rng.choice(string.ascii_lowercase)]
        else:
            out.append(ch)
    return "".join(out) or word


def recognized_line(written: str, rng: random.Random) -> tuple[str, list[dict]]:
    """The line as a recognizer with CER errors reads it, with per-word alternatives."""
    readings, words = [], []
    for word in written.split(" "):
        reading = misread(word, rng, CER * 1.15)  # spaces are never misread: ~10% per line
        alternatives = [reading]
        if reading != word and rng.random() < 0.4:
            alternatives.append(word)
        other = misread(word, rng, 0.3)
        if other not in alternatives:
            alternatives.append(other)
        readings.append(reading)
        words.append({"text": reading, "confidence": 0.9 if reading == word else 0.5,
                      "alternatives": [{"text": a, "probability": round(0.6 / (i + 1), 3)}
                                       for i, a in enumerate(alternatives)]})
    return " ".join(readings), words


def make_corpus(n_lines: int, seed: int) -> dict:
    """Notes with written and recognized lines, and the queries to run."""
    from ml.synth.text import TextSampler, Vocabulary

    rng = random.Random(seed)
    sampler = TextSampler(Vocabulary.from_wordfreq(), random.Random(seed))
    notes = []
    start = date(2023, 1, 1)
    for n in range(n_lines // LINES_PER_NOTE):
        lines = []
        for _ in range(LINES_PER_NOTE):
            written = " ".join(sampler.line().split())
            text, words = recognized_line(written, rng)
            lines.append({"written": written, "text": text, "words": words})
        notes.append({"title": f"Note {n + 1}: {sampler.line(max_words=4)}",
                      "collection": f"Notebook {rng.randint(1, 10)}",
                      "tags": rng.sample(["work", "home", "lecture", "ideas", "travel"], 1),
                      "note_date": str(start + timedelta(days=rng.randrange(3 * 365))),
                      "lines": lines})
    return {"notes": notes, "queries": make_queries(notes, rng),
            "misread": misread_words(notes, rng)}


def _words_of(chunk: str) -> list[str]:
    from recognition.search.text import words

    return words(chunk)


def _content_words(notes: list[dict]) -> list[tuple[str, str]]:
    """(written word, following written word) pairs of letters-only words of 4+ letters."""
    pairs = []
    for note in notes:
        for line in note["lines"]:
            chunks = line["written"].split(" ")
            for i, chunk in enumerate(chunks):
                words = _words_of(chunk)
                if len(words) == 1 and words[0].isalpha() and len(words[0]) >= 4:
                    following = _words_of(chunks[i + 1]) if i + 1 < len(chunks) else []
                    pairs.append((words[0], following[0] if len(following) == 1 else ""))
    return pairs


def make_queries(notes: list[dict], rng: random.Random) -> dict[str, list[str]]:
    pairs = _content_words(notes)
    picks = [rng.choice(pairs) for _ in range(4 * QUERIES_PER_KIND)]
    phrases = [p for p in pairs if p[1]]
    queries = {
        "exact": [word for word, _ in picks[:QUERIES_PER_KIND]],
        "phrase": [f'"{a} {b}"' for a, b in rng.sample(phrases, QUERIES_PER_KIND)],
        "prefix": [word[:rng.randint(3, max(3, len(word) - 1))] + "*"
                   for word, _ in picks[QUERIES_PER_KIND:2 * QUERIES_PER_KIND]],
        "typo": [],
    }
    for word, _ in picks[2 * QUERIES_PER_KIND:]:
        if len(queries["typo"]) == QUERIES_PER_KIND:
            break
        typo = _typo(word, 2 if len(word) >= 8 else 1, rng)
        if typo != word:
            queries["typo"].append(typo)
    return queries


def _typo(word: str, edits: int, rng: random.Random) -> str:
    for _ in range(edits):
        i = rng.randrange(1, len(word))  # people get the first letter right
        op = rng.choice(("swap", "replace", "delete", "insert"))
        if op == "swap" and i < len(word) - 1:
            word = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        elif op == "replace":
            word = word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1:]
        elif op == "delete":
            word = word[:i] + word[i + 1:]
        else:
            word = word[:i] + rng.choice(string.ascii_lowercase) + word[i:]
    return word


def misread_words(notes: list[dict], rng: random.Random) -> list[dict]:
    """RECALL_WORDS written words of 4+ letters whose reading is 1 or 2 edits off."""
    from rapidfuzz.distance import Levenshtein

    found = []
    for n, note in enumerate(notes):
        for i, line in enumerate(note["lines"]):
            for chunk, read in zip(line["written"].split(" "), line["text"].split(" "),
                                   strict=True):
                written, reading = _words_of(chunk), _words_of(read)
                if (len(written) == 1 and len(reading) == 1 and written[0].isalpha()
                        and len(written[0]) >= 4
                        and 1 <= Levenshtein.distance(written[0], reading[0]) <= 2):
                    found.append({"note": n, "line": i, "word": written[0],
                                  "read": reading[0],
                                  "edits": Levenshtein.distance(written[0], reading[0])})
    return rng.sample(found, RECALL_WORDS)


def character_error_rate(notes: list[dict]) -> float:
    from rapidfuzz.distance import Levenshtein

    errors = chars = 0
    for note in notes:
        for line in note["lines"]:
            errors += Levenshtein.distance(line["written"], line["text"])
            chars += len(line["written"])
    return errors / chars


# One database (a child process: Django is set up for one database per process) ----------------

def run_database(corpus_path: Path, result_path: Path) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notesite.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from recognition.models import SearchWord

    call_command("migrate", verbosity=0)
    corpus = json.loads(corpus_path.read_text())
    line_ids = load(corpus["notes"])
    seconds = index_all()
    if connection.vendor == "postgresql":
        # What autovacuum does after a bulk load: planner statistics for the new rows.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    result = {"vendor": connection.vendor, "index_seconds": round(seconds, 1),
              "lines": sum(len(ids) for ids in line_ids)}
    result["latency"] = latencies(corpus["queries"])
    result["after_edit"] = edit_then_search(corpus["queries"]["exact"])
    result["typos"] = typo_quality(corpus, line_ids)
    result["index_size_mb"] = index_size()
    result["vocabulary_words"] = SearchWord.objects.count()
    result_path.write_text(json.dumps(result, indent=1))


def load(notes: list[dict]) -> list[list[int]]:
    """Notes, pages and lines as recognition leaves them; the ids of each note's lines."""
    from django.contrib.auth import get_user_model

    from recognition.models import Collection, Line, Note, Page, Tag

    user = get_user_model().objects.create_user("bench", password="bench passphrase 2026")
    collections = {}
    tags = {name: Tag.objects.create(owner=user, name=name)
            for name in ("work", "home", "lecture", "ideas", "travel")}
    line_ids = []
    for n, spec in enumerate(notes):
        if spec["collection"] not in collections:
            collections[spec["collection"]] = Collection.objects.create(
                owner=user, name=spec["collection"])
        note = Note.objects.create(
            owner=user, collection=collections[spec["collection"]], title=spec["title"][:200],
            note_date=spec["note_date"], original=f"notes/{n}/original.jpg",
            original_name="photo.jpg", kind="image", content_type="image/jpeg", size=1,
            sha256="0", status="done", pages_total=1, pages_done=1, revision=1)
        note.tags.set([tags[name] for name in spec["tags"]])
        page = Page.objects.create(note=note, number=1, image=f"notes/{n}/page-001.jpg",
                                   width=2000, height=2800, recognized=True)
        lines = Line.objects.bulk_create([
            Line(page=page, order=i, text=line["text"], machine_text=line["text"],
                 words=line["words"], confidence=0.8, revision=1,
                 polygon=[[50, 100 + 120 * i], [1900, 100 + 120 * i],
                          [1900, 200 + 120 * i], [50, 200 + 120 * i]])
            for i, line in enumerate(spec["lines"])])
        line_ids.append([line.pk for line in lines])
    return line_ids


def index_all() -> float:
    from recognition.models import Note
    from recognition.search.index import note_index

    started = time.perf_counter()
    for note_id in Note.objects.order_by("pk").values_list("pk", flat=True):
        note_index(note_id=note_id)
    return time.perf_counter() - started


def latencies(queries: dict[str, list[str]]) -> dict:
    from django.contrib.auth import get_user_model

    from recognition.search.query import SearchResults

    user = get_user_model().objects.get(username="bench")
    for q in queries["exact"][:10]:  # warm caches and connections
        _page(SearchResults(user, q))
    out = {}
    for kind, qs in queries.items():
        times, counts = [], []
        for q in qs:
            started = time.perf_counter()
            count, _ = _page(SearchResults(user, q))
            times.append(1000 * (time.perf_counter() - started))
            counts.append(count)
        out[kind] = {"queries": len(qs), "median_ms": round(statistics.median(times), 1),
                     "p95_ms": round(_p95(times), 1), "max_ms": round(max(times), 1),
                     "median_hits": statistics.median(counts), "examples": qs[:5]}
    return out


def edit_then_search(queries: list[str], rounds: int = 10) -> dict:
    """A line edited (`lines_update`: the signal re-indexes the note after the commit), then a
    search: on SQLite the first search after a change reads the vocabulary again."""
    from django.contrib.auth import get_user_model

    from recognition.models import Line, Note
    from recognition.revisions import lines_update
    from recognition.search.query import SearchResults

    user = get_user_model().objects.get(username="bench")
    notes = list(Note.objects.order_by("pk")[::max(1, Note.objects.count() // rounds)][:rounds])
    edits, searches = [], []
    for note, q in zip(notes, queries, strict=False):
        line = Line.objects.filter(page__note=note).order_by("order").first()
        started = time.perf_counter()
        lines_update(user=user, note=note, edits={line.pk: line.text + " corrected"},
                     base_revision=note.revision)
        edits.append(1000 * (time.perf_counter() - started))
        started = time.perf_counter()
        _page(SearchResults(user, q))
        searches.append(1000 * (time.perf_counter() - started))
    return {"edits": len(edits), "edit_median_ms": round(statistics.median(edits), 1),
            "search_median_ms": round(statistics.median(searches), 1)}


def _page(results) -> tuple[int, list]:
    """What the search page does: the count and the first page of hits."""
    return results.count(), results[0:20]


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def typo_quality(corpus: dict, line_ids: list[list[int]]) -> dict:
    """Recall and precision of the written word as the query, over the misread words."""
    from collections import Counter

    from django.contrib.auth import get_user_model

    from recognition.search.plan import Tier
    from recognition.search.query import SearchResults

    user = get_user_model().objects.get(username="bench")
    written = {line_ids[n][i]: set(_words_of(line["written"]))
               for n, note in enumerate(corpus["notes"]) for i, line in enumerate(note["lines"])}
    holding = Counter(word for words in written.values() for word in words)
    found = found_in_text = 0
    precision, r_precision, hit_counts, misses = [], [], [], []
    for case in corpus["misread"]:
        target = line_ids[case["note"]][case["line"]]
        ranked = list(SearchResults(user, case["word"]).matches.values_list("line_id", "tier"))
        tiers = dict(ranked)
        if target in tiers:
            found += 1
            found_in_text += tiers[target] < Tier.ALTERNATIVE
        else:
            misses.append(f'{case["word"]} (read {case["read"]})')
        right = [case["word"] in written[line] for line, _ in ranked]
        precision.append(sum(right) / len(right))  # never empty: the target's line is one
        # R-precision: of the first R hits, R = the lines whose written text holds the word.
        r_precision.append(sum(right[:holding[case["word"]]]) / holding[case["word"]])
        hit_counts.append(len(ranked))
    n = len(corpus["misread"])
    return {"words": n, "recall": found / n, "recall_without_alternatives": found_in_text / n,
            "precision": statistics.mean(precision), "r_precision": statistics.mean(r_precision),
            "median_hits": statistics.median(hit_counts),
            "median_lines_holding": statistics.median(holding[c["word"]]
                                                      for c in corpus["misread"]),
            "two_edit_words": sum(case["edits"] == 2 for case in corpus["misread"]),
            "misses": misses}


def index_size() -> float | None:
    """Megabytes of the index tables and their indexes (FTS5's shadow tables on SQLite)."""
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_total_relation_size('recognition_searchline')"
                           " + pg_total_relation_size('recognition_searchword')")
        else:
            try:
                cursor.execute("SELECT sum(pgsize) FROM dbstat"
                               " WHERE name LIKE 'recognition_search%'"
                               " OR name LIKE 'search_word%' OR name LIKE 'unique_search%'")
            except DatabaseError:  # dbstat is an optional part of SQLite
                return None
        size = cursor.fetchone()[0]
    return round(size / 2**20, 1) if size else None


# Parent: corpus, one child per database, report ------------------------------------------------

def fresh_postgres(url: str, database: str = BENCH_DATABASE) -> str:
    """A new, empty database `database` beside the one in `url`; its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {database}")
    return url.rsplit("/", 1)[0] + "/" + database


def run_child(corpus_path: Path, data_dir: Path, database_url: str | None) -> dict:
    result_path = data_dir / "result.json"
    env = {**os.environ, "NOTES_DATA_DIR": str(data_dir), "NOTES_DEBUG": "0",
           "NOTES_SECRET_KEY": "benchmark-only", "NOTES_LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    subprocess.run([sys.executable, __file__, "--child", str(corpus_path), str(result_path)],
                   env=env, check=True)
    return json.loads(result_path.read_text())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/test",
                        help="a server where a scratch database may be created")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "search.md")
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_database(*args.child)
        return
    started = time.perf_counter()
    corpus = make_corpus(args.lines, SEED)
    report = {"lines": args.lines, "notes": len(corpus["notes"]),
              "cer": round(character_error_rate(corpus["notes"]), 4),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "date": str(date.today()), "databases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        corpus_path = Path(tmp) / "corpus.json"
        corpus_path.write_text(json.dumps(corpus))
        for name, url in (("sqlite", None), ("postgresql", fresh_postgres(args.postgres))):
            (Path(tmp) / name).mkdir()
            print(f"{name}...", file=sys.stderr)
            report["databases"][name] = run_child(corpus_path, Path(tmp) / name, url)
    report["seconds"] = round(time.perf_counter() - started)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    args.out.write_text(markdown(report))
    print(args.out.read_text())


def markdown(report: dict) -> str:
    dbs = report["databases"]
    names = list(dbs)
    out = [
        "# Search benchmark", "",
        f"`python bench/search.py` on {report['machine']}, {report['date']}: "
        f"{report['lines']:,} lines in {report['notes']:,} notes of one user, synthetic "
        f"note text read through a synthetic error model (CER {report['cer']:.1%}), "
        "both databases in the same run (SQLite 3, PostgreSQL 15 on the same machine). "
        "The model is not run: see the script's docstring.", "",
        "## Query latency (count + first 20 hits with snippets, as the search page)", "",
        "| query | " + " | ".join(f"{n} median | {n} p95" for n in names) + " | examples |",
        "|---|" + "---|---|" * len(names) + "---|",
    ]
    for kind in dbs[names[0]]["latency"]:
        cells = " | ".join(f"{dbs[n]['latency'][kind]['median_ms']:.0f} ms | "
                           f"{dbs[n]['latency'][kind]['p95_ms']:.0f} ms" for n in names)
        examples = ", ".join(f"`{q}`" for q in dbs[names[0]]["latency"][kind]["examples"][:3])
        out.append(f"| {kind} | {cells} | {examples} |")
    out += ["", "Targets: SQLite median ≤ 300 ms; PostgreSQL median ≤ 100 ms, p95 ≤ 250 ms.", "",
            "Right after a change (a line edited through `lines_update`, the note re-indexed by "
            "the signal after the commit; medians of "
            f"{dbs[names[0]]['after_edit']['edits']}): "
            + "; ".join(f"{n}: edit {dbs[n]['after_edit']['edit_median_ms']:.0f} ms, the next "
                        f"search {dbs[n]['after_edit']['search_median_ms']:.0f} ms"
                        for n in names)
            + " (SQLite reads the user's vocabulary into memory again, see "
            "`recognition/search/vocabulary.py`).", "",
            "## Typo tolerance", "",
            f"{dbs[names[0]]['typos']['words']} misread words (the written word, 4+ letters, "
            f"read 1 or 2 edits off; {dbs[names[0]]['typos']['two_edit_words']} of them 2 edits), "
            "the written word as the query:", "",
            "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    rows = [("recall: the line is found", "recall"),
            ("recall without alternative readings", "recall_without_alternatives"),
            ("precision: hits whose written text holds the word", "precision"),
            ("R-precision: the same, in the first R hits (R = lines holding the word)",
             "r_precision")]
    for label, key in rows:
        out.append(f"| {label} | " + " | ".join(f"{dbs[n]['typos'][key]:.1%}" for n in names)
                   + " |")
    out.append("| hits per query, median (lines holding the word, median: "
               f"{dbs[names[0]]['typos']['median_lines_holding']:g}) | "
               + " | ".join(f"{dbs[n]['typos']['median_hits']:g}" for n in names) + " |")
    out += ["", "## Indexing", "", "| | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
            "| index all notes (`note_index` per note) | "
            + " | ".join(f"{dbs[n]['index_seconds']:.0f} s" for n in names) + " |",
            "| index size | " + " | ".join(
                f"{dbs[n]['index_size_mb']} MB" if dbs[n]["index_size_mb"] else "n/a"
                for n in names) + " |",
            "| distinct words (the typo vocabulary) | " + " | ".join(
                f"{dbs[n]['vocabulary_words']:,}" for n in names) + " |", ""]
    for n in names:
        misses = dbs[n]["typos"]["misses"]
        out.append(f"Missed on {n}: " + (", ".join(misses) if misses else "none") + ".")
    out += ["", "## Reading these numbers", "", *NOTES]
    return "\n".join(out) + "\n"


NOTES = [
    "- Every query runs the whole typo-tolerant search: its words are widened to the user's "
    "words up to the edit budget away (one edit from 3 letters, two from 6), and the exact, "
    "near, fuzzy and alternative tiers are ranked in one statement.",
    "- The misses above are mostly short words read two edits off: a 4- or 5-letter word is "
    "allowed one edit, by design (\"musk\" would otherwise find \"must\", \"mask\", "
    "\"mrs\"...). \"exported\" read \"ported\" collides with a word of its own: a "
    "neighbour in more than 3 lines and more than half as many as the query word is taken for "
    "a word of its own, not a misreading.",
    "- Recall with alternatives depends on the error model's top-3 readings, which hold the "
    "written word for 40% of misread words; the line is also found without them in the share "
    "given in the next row.",
    "- Precision is low by nature of two-edit matching over a vocabulary full of misreadings "
    "and short real words; ranking puts the lines that hold the word first (R-precision). "
    "SQLite and PostgreSQL rank within a tier by bm25 and ts_rank, hence their small "
    "difference there.",
    "- After a change, the first search on SQLite reads the user's vocabulary (all the distinct "
    "words of the notes, most of them misreadings: see the indexing table) back into memory; "
    "PostgreSQL asks its trigram index instead.",
]


if __name__ == "__main__":
    main()
