"""What a user types into the search box, parsed (the syntax of web search engines).

    stanford lecture        lines with both words
    "machine learning"      exactly these words, next to each other, in this order
    photo*                  words starting with "photo"
    -draft                  lines without the word (or -"a phrase", -draft*)
    notes OR minutes        either word

Words are normalized like the index (`text.words`); a written word that normalizes to several
("e-mail") is a phrase. What is quoted is `exact`: found only as typed (case, spacing and
punctuation aside), never through a similar spelling or an alternative reading, as the search
page promises; words outside quotes stay typo-tolerant.

We parse it ourselves rather than with websearch_to_tsquery because SQLite needs the same query,
prefixes are not part of that syntax, and each word is widened to its near-misses before the
database sees it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from recognition.search import text

# A quoted phrase (closing quote optional), with an optional leading minus; or any other chunk.
CHUNK = re.compile(r'(-?)"([^"]*)"?|(\S+)')
# Bounds on what one query asks of the database.
MAX_PATTERNS = 12
MAX_PHRASE_WORDS = 8
# "a*" would ask for every word starting with "a": shorter stems are searched as words.
MIN_PREFIX_LENGTH = 2


@dataclass(frozen=True)
class Pattern:
    """A word or phrase to find; with `prefix`, its last word may go on ("photo*"); `exact`
    (quoted): only as typed, no near-misses."""

    words: tuple[str, ...]
    prefix: bool = False
    exact: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True)
class Query:
    """A parsed query: every group must match (a group matches when any of its patterns does),
    and no excluded pattern may."""

    groups: tuple[tuple[Pattern, ...], ...]
    excluded: tuple[Pattern, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.groups

    @property
    def patterns(self) -> tuple[Pattern, ...]:
        return tuple(pattern for group in self.groups for pattern in group)


def parse(q: str) -> Query:
    """Parse a search box query; one with nothing to look for (only exclusions) is empty."""
    groups: list[list[Pattern]] = []
    excluded: list[Pattern] = []
    or_pending = False
    count = 0
    for match in CHUNK.finditer(q):
        if match.group(3) == "OR":
            or_pending = bool(groups)
            continue
        pattern, negated = _pattern(match)
        if pattern is None or count >= MAX_PATTERNS:
            continue
        count += 1
        if negated:
            excluded.append(pattern)
        elif or_pending:
            groups[-1].append(pattern)
        else:
            groups.append([pattern])
        or_pending = False
    return Query(groups=tuple(tuple(g) for g in groups), excluded=tuple(excluded))


def _pattern(match: re.Match) -> tuple[Pattern | None, bool]:
    exact = match.group(3) is None
    if exact:  # a quoted phrase
        negated, raw, prefix = match.group(1) == "-", match.group(2), False
    else:
        raw = match.group(3)
        negated = raw.startswith("-") and len(raw) > 1
        raw = raw[1:] if negated else raw
        prefix = raw.endswith("*")
    words = tuple(text.words(raw)[:MAX_PHRASE_WORDS])
    if not words:
        return None, negated
    prefix = prefix and len(words[-1]) >= MIN_PREFIX_LENGTH
    return Pattern(words=words, prefix=prefix, exact=exact), negated
