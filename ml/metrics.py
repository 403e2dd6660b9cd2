"""Character and word error rates, corpus-level.

CER = total edit distance / total reference characters over the whole corpus (not a mean of
per-line rates), WER the same over whitespace-separated words. Both texts are NFC-normalized with
whitespace collapsed first; scoring is case-sensitive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from ml.charset import collapse_whitespace


@dataclass
class ErrorCounter:
    """Accumulates edit distances line by line."""

    char_edits: int = 0
    chars: int = 0
    word_edits: int = 0
    words: int = 0
    lines: int = 0

    def add(self, hypothesis: str, reference: str) -> None:
        hyp, ref = collapse_whitespace(hypothesis), collapse_whitespace(reference)
        self.char_edits += Levenshtein.distance(hyp, ref)
        self.chars += len(ref)
        hyp_words, ref_words = hyp.split(), ref.split()
        self.word_edits += Levenshtein.distance(hyp_words, ref_words)
        self.words += len(ref_words)
        self.lines += 1

    @property
    def cer(self) -> float:
        return self.char_edits / max(self.chars, 1)

    @property
    def wer(self) -> float:
        return self.word_edits / max(self.words, 1)


def error_rates(hypotheses: Iterable[str], references: Iterable[str]) -> tuple[float, float]:
    """(CER, WER) of paired hypotheses and references."""
    counter = ErrorCounter()
    for hyp, ref in zip(hypotheses, references, strict=True):
        counter.add(hyp, ref)
    return counter.cer, counter.wer
