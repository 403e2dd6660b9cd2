"""The database's own full-text engine, one class per database; both answer alike.

PostgreSQL: a generated tsvector column (line words weight A, alternative readings weight D)
under a GIN index, queried with to_tsquery and ranked with ts_rank; candidates for typo
tolerance come from pg_trgm over the vocabulary. SQLite: an FTS5 table, ranked with bm25;
typo candidates from a scan of the user's vocabulary held in memory (`vocabulary`: SQLite has
no trigram index). Migration 0004_search builds both.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext

from django.contrib.postgres.lookups import TrigramSimilar
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection, transaction
from django.db.models import BooleanField, Case, F, QuerySet, Value, When
from django.db.models.expressions import RawSQL

from recognition.models import SearchLine, SearchLineText, SearchWord
from recognition.search.fuzzy import Variant, closest
from recognition.search.plan import Condition, Term, Tier
from recognition.search.vocabulary import vocabulary

ENTRIES = SearchLine._meta.db_table
FTS = SearchLineText._meta.db_table


class PostgresSearch:
    """tsvector/tsquery full-text search, pg_trgm for the typo candidates."""

    CONFIG = "simple"  # our words are already normalized: no stemming, no stop words
    # ts_rank weights of D, C, B, A: an alternative reading counts a tenth of a word read.
    WEIGHTS = [0.1, 0.2, 0.4, 1.0]
    # The lowest pg_trgm similarity asked of a candidate (see `trigram_threshold`): two edits
    # in a six-letter word can leave a single trigram in common, and a threshold that low
    # would make the trigram index return most of the vocabulary.
    MIN_TRIGRAM_THRESHOLD = 0.15

    @contextmanager
    def session(self) -> Iterator[None]:
        """The transaction one search statement runs in, with its settings."""
        with transaction.atomic(), connection.cursor() as cursor:
            # A search reads a few hundred rows through the GIN index. A parallel scan of every
            # line only looks cheaper to the planner, which prices matching a long tsquery
            # (a word and its hundreds of variants) like any other operator.
            cursor.execute("SELECT set_config('max_parallel_workers_per_gather', '0', true)")
            yield

    def entries(self) -> QuerySet[SearchLine]:
        """Where a search starts: the index entries (line_id, note, owner)."""
        return SearchLine.objects.all()

    def matching(self, entries: QuerySet[SearchLine],
                 tiers: Sequence[tuple[Tier, Condition]]) -> QuerySet[SearchLine]:
        """The entries meeting the widest condition, annotated with their `tier` and `score`."""
        queries = [(tier, self._query(condition)) for tier, condition in tiers]
        widest_tier, widest = queries[-1]
        vector = RawSQL(f'"{ENTRIES}"."vector"', [], output_field=SearchVectorField())
        return entries.annotate(vector=vector).filter(vector=widest).annotate(
            tier=Case(*[When(vector=query, then=Value(int(tier))) for tier, query in queries[:-1]],
                      default=Value(int(widest_tier))),
            score=SearchRank(F("vector"), widest, weights=self.WEIGHTS),
        )

    def similar_words(self, *, owner_id: int,
                      wanted: Mapping[str, int]) -> dict[str, tuple[Variant, ...]]:
        """For each word ({word: edits}), the user's words within that many edits."""
        found = {}
        with transaction.atomic(), connection.cursor() as cursor:
            for word, edits in wanted.items():
                threshold = max(self.MIN_TRIGRAM_THRESHOLD, trigram_threshold(len(word), edits))
                cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)",
                               [str(threshold)])
                candidates = SearchWord.objects.filter(
                    TrigramSimilar(F("word"), word), owner_id=owner_id,
                    length__range=(len(word) - edits, len(word) + edits))
                found[word] = closest(word, edits, dict(candidates.values_list("word", "lines")))
        return found

    def _query(self, condition: Condition) -> SearchQuery:
        return SearchQuery(tsquery(condition), search_type="raw", config=self.CONFIG)


def trigram_threshold(length: int, edits: int) -> float:
    """The least pg_trgm similarity of two words `edits` apart, the first `length` long.

    pg_trgm pads a word to "  word " (length + 1 trigrams); an edit changes at most four of
    them (three for a letter changed, four for two letters swapped), and the other word has at
    most length + edits + 1.
    """
    shared = length + 1 - 4 * edits
    return max(0.0, shared / (2 * length + edits + 2 - shared)) if shared > 0 else 0.0


def tsquery(condition: Condition) -> str:
    """The condition in to_tsquery syntax: words A, alternative readings D."""
    query = " & ".join("(" + " | ".join(_ts_term(t) for t in group) + ")"
                       for group in condition.groups)
    return "".join([query, *(f" & !{_ts_term(term)}" for term in condition.excluded)])


def _ts_term(term: Term) -> str:
    positions = []
    for i, words in enumerate(term.options):
        prefix = "*" if term.prefix and i == len(term.options) - 1 else ""
        lexemes = [_lexeme(word, prefix, "A") for word in words]
        if term.in_alternatives:
            lexemes[0] = _lexeme(words[0], prefix, "AD")
        positions.append(lexemes[0] if len(lexemes) == 1 else "(" + " | ".join(lexemes) + ")")
    return "(" + " <-> ".join(positions) + ")"


def _lexeme(word: str, prefix: str, weights: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("'", "''")  # words are letters and digits
    return f"'{escaped}':{prefix}{weights}"


class SqliteSearch:
    """FTS5 full-text search; typo candidates from the user's vocabulary, in memory."""

    # bm25 weights of the FTS5 columns (words, alternative readings).
    BM25 = f'bm25("{FTS}", 1.0, 0.1)'

    def session(self):
        """Nothing to set: FTS5 plans every search from the full-text index."""
        return nullcontext()

    def entries(self) -> QuerySet[SearchLineText]:
        """Where a search starts: the FTS table itself (line_id, note, owner), see its model."""
        return SearchLineText.objects.all()

    def matching(self, entries: QuerySet[SearchLineText],
                 tiers: Sequence[tuple[Tier, Condition]]) -> QuerySet[SearchLineText]:
        """The entries meeting the widest condition, annotated with their `tier` and `score`."""
        queries = [(tier, fts_query(condition)) for tier, condition in tiers]
        widest_tier, widest = queries[-1]
        # Each narrower tier is one more full-text query, run once (not per row) by SQLite.
        narrower = [
            When(RawSQL(f'"{FTS}"."rowid" IN (SELECT rowid FROM "{FTS}" WHERE "{FTS}" MATCH %s)',
                        [query], output_field=BooleanField()),
                 then=Value(int(tier)))
            for tier, query in queries[:-1]
        ]
        return entries.filter(
            RawSQL(f'"{FTS}" MATCH %s', [widest], output_field=BooleanField())
        ).annotate(
            tier=Case(*narrower, default=Value(int(widest_tier))),
            score=RawSQL(f"-{self.BM25}", []),  # bm25: lower is better
        )

    def similar_words(self, *, owner_id: int,
                      wanted: Mapping[str, int]) -> dict[str, tuple[Variant, ...]]:
        """For each word ({word: edits}), the user's words within that many edits."""
        if not wanted:
            return {}
        words = vocabulary(owner_id)
        return {
            word: closest(word, edits, words.lines,
                          candidates=words.words(len(word) - edits, len(word) + edits))
            for word, edits in wanted.items()
        }


def fts_query(condition: Condition) -> str:
    """The condition in FTS5 query syntax: column `terms` for words, `alternatives`."""
    query = "(" + " AND ".join("(" + " OR ".join(_fts_term(t) for t in group) + ")"
                               for group in condition.groups) + ")"
    return "".join([query, *(f" NOT {_fts_term(term)}" for term in condition.excluded)])


def _fts_term(term: Term) -> str:
    star = "*" if term.prefix else ""
    phrases = [_fts_phrase(words) + star for words in itertools.product(*term.options)]
    text = "terms : (" + " OR ".join(phrases) + ")"
    if not term.in_alternatives:
        return text
    return f"({text} OR alternatives : {_fts_phrase(term.options[0][:1])}{star})"


def _fts_phrase(words: Sequence[str]) -> str:
    return '"' + " ".join(word.replace('"', '""') for word in words) + '"'


def search_backend() -> PostgresSearch | SqliteSearch:
    """The search implementation for the default database."""
    return PostgresSearch() if connection.vendor == "postgresql" else SqliteSearch()
