"""How much work one page may cost, so that a hard page never blocks a worker for minutes.

Reading a page is segmentation (bounded by the fixed working size) plus decoding every line
(beam search with the character LM costs ~20 ms a line, greedy decoding almost nothing). The
budget caps the number of lines read and the wall-clock time: past `beam_share` of the time,
the remaining lines are decoded greedily; past the whole of it, they are left unread and the
page comes out as partly read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class PageBudget:
    seconds: float = 8.0  # wall clock for the whole page; lines not read by then stay unread
    max_lines: int = 250  # a page holding more line candidates keeps the most text-like ones
    beam_share: float = 0.6  # past this share of `seconds`, decode greedily (no LM search)

    def __post_init__(self):
        if self.seconds < 0 or self.max_lines < 0 or not 0 <= self.beam_share <= 1:
            raise ValueError(f"Invalid page budget {self}")


class Deadline:
    """A page budget started at a given moment."""

    def __init__(self, budget: PageBudget, start: float | None = None):
        self.budget = budget
        self.start = time.perf_counter() if start is None else start

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def expired(self) -> bool:
        return self.elapsed >= self.budget.seconds

    def beam_allowed(self) -> bool:
        return self.elapsed < self.budget.seconds * self.budget.beam_share
