"""What the database is asked, tier by tier: a parsed query plus the variants of its words.

A line is ranked in the first tier whose condition it meets; each tier's condition is wider
than the one before:

    EXACT        the words as typed, in the line's text (all a quoted phrase ever matches)
    NEAR         or words of the user's notes one edit away (a misread "Stanfard")
    FUZZY        or up to the edit budget away (a misread "Stamford" for "Stanford")
    ALTERNATIVE  or a word as typed among the recognizer's alternative readings

Backends turn a `Condition` into their own query language.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from recognition.search.fuzzy import Variant, pattern_options
from recognition.search.syntax import Pattern, Query


class Tier(enum.IntEnum):
    EXACT = 0
    NEAR = 1
    FUZZY = 2
    ALTERNATIVE = 3

    @property
    def label(self) -> str:
        """What a hit tells: "exact", "fuzzy" or "alternative"."""
        return "fuzzy" if self is Tier.NEAR else self.name.lower()


@dataclass(frozen=True)
class Term:
    """A pattern as searched: the words allowed at each position, in order."""

    options: tuple[tuple[str, ...], ...]
    prefix: bool = False
    # A one-word term whose typed word may also be one of the alternative readings.
    in_alternatives: bool = False


@dataclass(frozen=True)
class Condition:
    """Every group must match (a group: any of its terms); no excluded term may."""

    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()

    @property
    def terms(self) -> tuple[Term, ...]:
        return tuple(term for group in self.groups for term in group)


def tiers(query: Query, variants: Mapping[str, Sequence[Variant]]
          ) -> list[tuple[Tier, Condition]]:
    """The condition of each tier, leaving out a tier that could find nothing new."""
    excluded = tuple(_exact(pattern) for pattern in query.excluded)

    def condition(**options) -> Condition:
        return Condition(tuple(tuple(_fuzzy(p, variants, **options) for p in group)
                               for group in query.groups), excluded)

    result = [(Tier.EXACT, condition(max_edits=0))]
    for tier, wider in ((Tier.NEAR, condition(max_edits=1)), (Tier.FUZZY, condition()),
                        (Tier.ALTERNATIVE, condition(alternatives=True))):
        if wider != result[-1][1]:
            result.append((tier, wider))
    return result


def _exact(pattern: Pattern) -> Term:
    return Term(options=tuple((word,) for word in pattern.words), prefix=pattern.prefix)


def _fuzzy(pattern: Pattern, variants: Mapping[str, Sequence[Variant]], *, max_edits: int = 2,
           alternatives: bool = False) -> Term:
    # Alternative readings are a bag of words without positions: phrases are not looked up
    # there; nor is a quoted word, which is wanted as written.
    return Term(options=pattern_options(pattern, variants, max_edits=max_edits),
                prefix=pattern.prefix,
                in_alternatives=alternatives and not pattern.is_phrase and not pattern.exact)
