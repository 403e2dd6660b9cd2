"""Words as search sees them: one normalization for the index, the queries and the highlights.

A word is a run of letters and digits (with any combining accents), compatibility-normalized
and case-folded: "Café", "CAFÉ" and "café" are one word; "e-mail" is two. The index stores words
this way, space-separated, so that PostgreSQL's parser and SQLite's unicode61 tokenizer both
split them exactly where we did and phrase positions agree on both databases.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

# Letters and digits, and the combining marks that may follow them in decomposed text.
WORD = re.compile(r"[^\W_](?:[^\W_]|[\u0300-\u036f])*")
# Longer words are kept out of the vocabulary (they are URLs, e-mail addresses or noise).
MAX_WORD_LENGTH = 64

# Edits allowed between a query word and a word of the notes, by the query word's length:
# none below ONE_EDIT_FROM letters, one from there, two from TWO_EDITS_FROM (Lucene's "AUTO"
# fuzziness). Short words have too many neighbours to correct ("cat": "car", "at", "cut").
ONE_EDIT_FROM = 3
TWO_EDITS_FROM = 6


def normalize(text: str) -> str:
    """Compatibility-normalized and case-folded text (NFKC before and after folding)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def word_spans(text: str) -> Iterator[tuple[int, int, list[str]]]:
    """(start, end, normalized words) for each word as written in `text`.

    One written word can give several normalized ones ("½" is "1", "2").
    """
    for match in WORD.finditer(text):
        words = WORD.findall(normalize(match.group()))
        if words:
            yield match.start(), match.end(), words


def words(text: str) -> list[str]:
    """The normalized words of a text, in order: what the index stores and phrases match."""
    return [word for _, _, normalized in word_spans(text) for word in normalized]


def vocabulary_words(terms: Iterable[str]) -> set[str]:
    """The words of a line that typos may be matched to: no numbers, nothing overlong, and no
    single letters (only query words of three letters or more are widened, by one edit)."""
    return {t for t in terms
            if 2 <= len(t) <= MAX_WORD_LENGTH and not any(c.isdigit() for c in t)}


def max_edits(word: str) -> int:
    """How many edits a query word may be away from a word of the notes and still match it."""
    if any(c.isdigit() for c in word):
        return 0  # 2019 is not a typo of 2018
    if len(word) >= TWO_EDITS_FROM:
        return 2
    return 1 if len(word) >= ONE_EDIT_FROM else 0
