"""A user's vocabulary held in memory between searches (SQLite, which has no trigram index).

Typo candidates on SQLite come from comparing the query words with every word of the user's
notes of about the same length. Reading those from SQLite costs ~100 ms for a collection of
100,000 machine-read lines (200,000 distinct words, most of them misreadings), more than the
rest of a search, and they only change when notes do. So each process keeps the vocabularies
of its last few searchers, and reads one again when its `SearchVocabulary` stamp changed.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from recognition.models import SearchVocabulary, SearchWord

# Vocabularies kept per process (a heavy user's is ~30 MB).
CACHED_USERS = 4


@dataclass(frozen=True)
class Vocabulary:
    stamp: uuid.UUID | None
    lines: dict[str, int]  # word -> lines it occurs in
    by_length: dict[int, list[str]] = field(repr=False)

    def words(self, shortest: int, longest: int) -> list[str]:
        """The words from `shortest` to `longest` letters long."""
        return list(itertools.chain.from_iterable(
            self.by_length.get(n, ()) for n in range(shortest, longest + 1)))


_cache: OrderedDict[int, Vocabulary] = OrderedDict()
_lock = threading.Lock()


def vocabulary(owner_id: int) -> Vocabulary:
    """The user's words, from memory unless they changed since they were read."""
    # The stamp is read before the words: words newer than their stamp only cost a re-read.
    stamp = SearchVocabulary.objects.filter(owner_id=owner_id).values_list(
        "stamp", flat=True).first()
    with _lock:
        cached = _cache.get(owner_id)
        if cached is not None and cached.stamp == stamp:
            _cache.move_to_end(owner_id)
            return cached
    loaded = _load(owner_id, stamp)
    with _lock:
        _cache[owner_id] = loaded
        _cache.move_to_end(owner_id)
        while len(_cache) > CACHED_USERS:
            _cache.popitem(last=False)
    return loaded


def _load(owner_id: int, stamp: uuid.UUID | None) -> Vocabulary:
    lines: dict[str, int] = {}
    by_length: dict[int, list[str]] = {}
    rows = SearchWord.objects.filter(owner_id=owner_id).values_list("word", "length", "lines")
    for word, length, count in rows.iterator(chunk_size=10_000):
        lines[word] = count
        by_length.setdefault(length, []).append(word)
    return Vocabulary(stamp=stamp, lines=lines, by_length=by_length)
