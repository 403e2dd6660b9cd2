"""Where a hit matched in its line: character offsets and an HTML snippet with <mark>s.

Done here rather than with ts_headline/FTS5 highlight(): the offsets are needed (clients draw
them), fuzzy and alternative matches must be marked too, and the output has to be the same on
both databases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from recognition.search import text
from recognition.search.plan import Term

# A longer line is cut to this many characters around its first match.
SNIPPET_LENGTH = 160
ELLIPSIS = "…"

Span = tuple[int, int]


@dataclass(frozen=True)
class Highlight:
    spans: tuple[Span, ...]  # (start, end) offsets into the line's text
    snippet: SafeString  # escaped text, matches in <mark>


def highlight(line_text: str, terms: Sequence[Term], words: Sequence[dict] = ()) -> Highlight:
    """Mark what `terms` match in `line_text`; `words` (the recognizer's, with alternatives)
    mark the written words whose alternative readings match."""
    spans = _merge(text_spans(line_text, terms) + alternative_spans(line_text, terms, words))
    return Highlight(spans=tuple(spans), snippet=snippet(line_text, spans))


def text_spans(line_text: str, terms: Sequence[Term]) -> list[Span]:
    """Spans of the line's words (or runs of words, for phrases) that the terms match."""
    tokens = [(start, end, word) for start, end, words in text.word_spans(line_text)
              for word in words]
    spans = []
    for term in terms:
        size = len(term.options)
        for first in range(len(tokens) - size + 1):
            if all(_word_matches(tokens[first + i][2], words, term.prefix and i == size - 1)
                   for i, words in enumerate(term.options)):
                spans.append((tokens[first][0], tokens[first + size - 1][1]))
    return spans


def alternative_spans(line_text: str, terms: Sequence[Term], words: Sequence[dict]) -> list[Span]:
    """Spans of the written words one of whose alternative readings a one-word term matches."""
    wanted = [term for term in terms if term.in_alternatives]
    spans, cursor = [], 0
    for word in words:
        start = line_text.find(word.get("text", ""), cursor)
        if start < 0 or not word.get("text"):
            continue
        cursor = start + len(word["text"])
        readings = {w for alternative in word.get("alternatives", ())
                    for w in text.words(alternative.get("text", ""))}
        if any(_word_matches(reading, term.options[0][:1], term.prefix)
               for term in wanted for reading in readings):
            spans.append((start, cursor))
    return spans


def snippet(line_text: str, spans: Sequence[Span]) -> SafeString:
    """The line (or a SNIPPET_LENGTH window around its first match), escaped, spans marked."""
    start, end = 0, len(line_text)
    if end > SNIPPET_LENGTH:
        first = spans[0][0] if spans else 0
        start = max(0, min(first - SNIPPET_LENGTH // 4, end - SNIPPET_LENGTH))
        start = line_text.rfind(" ", 0, start) + 1 if start else 0  # not inside a word
        end = min(end, start + SNIPPET_LENGTH)
    parts = [ELLIPSIS if start else ""]
    cursor = start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start >= span_end:
            continue
        parts += [escape(line_text[cursor:span_start]), "<mark>",
                  escape(line_text[span_start:span_end]), "</mark>"]
        cursor = span_end
    parts += [escape(line_text[cursor:end]), ELLIPSIS if end < len(line_text) else ""]
    return mark_safe("".join(parts))  # every piece of the line's text went through escape()


def _word_matches(word: str, options: Sequence[str], prefix: bool) -> bool:
    return any(word.startswith(option) if prefix else word == option for option in options)


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
