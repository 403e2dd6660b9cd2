"""Typo tolerance: which words of a user's notes a query word may stand for.

The database proposes candidates from the user's vocabulary (`backends`); here they are
checked against the edit budget of `text.max_edits` and ordered. The distance is optimal string
alignment: Levenshtein plus swaps of neighbouring letters, the typo people make most when typing
("Stnaford"), while the recognizer's own errors are substitutions, insertions and deletions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rapidfuzz import process
from rapidfuzz.distance import OSA

from recognition.search import text
from recognition.search.syntax import Pattern, Query

# Vocabulary words tried per query word, closest (then most frequent) first. A common word has
# hundreds of distinct misreadings in a large collection ("making": "makiemg", "mking"...),
# each in a line or two; a few hundred more words cost a search a few milliseconds.
MAX_VARIANTS = 400
# A word of the notes is taken for a misreading of a query word that also occurs in them only
# if it is rare next to it: in at most RARE_LINES lines, or OWN_WORD_SHARE as many as the query
# word. "from" (in 2,000 lines) is a word of its own, not a misread "form" (in 100); "stamford"
# in one line may well be a misread "stanford". A query word the notes lack is a typo of the
# user's: every neighbour is a candidate then.
RARE_LINES = 3
OWN_WORD_SHARE = 0.5
# Written-out combinations of a phrase's variants (SQLite has no OR inside a phrase).
MAX_PHRASE_COMBINATIONS = 64


def wanted_words(query: Query) -> dict[str, int]:
    """Query words that may be misread in the notes, with their edit budgets.

    The word being completed in a prefix pattern is left exact: "photo*" already matches many;
    so are the words of a quoted pattern.
    """
    wanted = {}
    for pattern in query.patterns:
        if pattern.exact:
            continue
        for position, word in enumerate(pattern.words):
            if pattern.prefix and position == len(pattern.words) - 1:
                continue
            edits = text.max_edits(word)
            if edits:
                wanted[word] = edits
    return wanted


# A variant of a query word: (vocabulary word, edits away).
Variant = tuple[str, int]


def closest(word: str, edits: int, lines: Mapping[str, int],
            candidates: Iterable[str] | None = None) -> tuple[Variant, ...]:
    """The candidates (by default every word of `lines`, {word: lines}) within `edits` of
    `word`, but not `word` itself nor words of their own (see RARE_LINES)."""
    found = process.extract(word, lines.keys() if candidates is None else candidates,
                            scorer=OSA.distance, score_cutoff=edits, limit=None)
    own = lines.get(word, 0)
    most = max(RARE_LINES, own * OWN_WORD_SHARE) if own else float("inf")
    near = sorted((distance, -lines[other], other) for other, distance, _ in found
                  if other != word and lines[other] <= most)
    return tuple((other, distance) for distance, _, other in near[:MAX_VARIANTS])


def pattern_options(pattern: Pattern, variants: Mapping[str, Sequence[Variant]], *,
                    max_edits: int = 2) -> tuple[tuple[str, ...], ...]:
    """Each position of the pattern: the word as typed, then its variants up to `max_edits`
    (none for a quoted pattern: it is found only as typed).

    A phrase whose combinations would exceed MAX_PHRASE_COMBINATIONS keeps the closest variants
    of its most varied words, so both databases search exactly the same combinations.
    """
    if pattern.exact:
        return tuple((word,) for word in pattern.words)
    options = [
        (word, *(() if pattern.prefix and i == len(pattern.words) - 1 else
                 (other for other, edits in variants.get(word, ()) if edits <= max_edits)))
        for i, word in enumerate(pattern.words)
    ]
    while pattern.is_phrase and _combinations(options) > MAX_PHRASE_COMBINATIONS:
        widest = max(range(len(options)), key=lambda i: len(options[i]))
        options[widest] = options[widest][:-1]
    return tuple(options)


def _combinations(options: list[tuple[str, ...]]) -> int:
    count = 1
    for words in options:
        count *= len(words)
    return count
