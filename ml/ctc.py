"""CTC decoding: greedy and prefix beam search, with confidences and per-word alternatives.

Inputs are log-probabilities of one line, shape (T, C), class 0 = blank. Confidences are
probabilities: a character's is the peak probability of its frames on the decoded path, a word's
the lowest of its characters' (one doubtful letter makes a doubtful word), a line's the geometric
mean of its characters'. Word alternatives come from a second beam search over the frames of that
word only, so they are readings of the same ink (Graves 2006; Hannun 2014 for the prefix search).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ml.charset import BLANK, Charset

NEG_INF = -math.inf
# Characters whose frame probability is below this are never considered by the beam search:
# they almost never win, and skipping them keeps the search cheap. Measured on fr-val with the
# LM: 1e-3 instead of 1e-4, same CER, 2.4x faster; 1e-2, CER +0.1 point, another 2.3x faster.
PRUNE_LOG_PROB = math.log(1e-2)
# Frames where blank is the only candidate are folded into one step (see `_steps`); exact.
MERGE_BLANK_RUNS = True


@dataclass(frozen=True)
class CharSpan:
    char: str
    confidence: float
    start: int  # first frame (inclusive)
    end: int  # last frame (inclusive)


@dataclass(frozen=True)
class Alternative:
    text: str
    probability: float  # among the alternatives found, they sum to at most 1


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float
    start: int  # frames, inclusive
    end: int
    alternatives: tuple[Alternative, ...]  # best first; the first is `text`


@dataclass(frozen=True)
class Decoding:
    text: str
    confidence: float
    chars: tuple[CharSpan, ...]
    words: tuple[Word, ...]


def greedy_path(log_probs: np.ndarray, charset: Charset) -> list[CharSpan]:
    """Best class per frame, repeats collapsed, blanks removed."""
    best = log_probs.argmax(axis=1)
    peak = np.exp(log_probs[np.arange(len(best)), best])
    spans: list[CharSpan] = []
    previous = BLANK
    for t, cls in enumerate(best.tolist()):
        if cls != BLANK:
            if cls == previous:
                last = spans[-1]
                spans[-1] = CharSpan(last.char, max(last.confidence, float(peak[t])), last.start, t)
            else:
                spans.append(CharSpan(charset.chars[cls - 1], float(peak[t]), t, t))
        previous = cls
    return spans


# A character language model scores the next character given a state; it returns the log
# probability and the state after that character.
CharLM = Callable[[object, str], tuple[float, object]]

# Beams hold plain probabilities (sums and products instead of log-sum-exp calls), divided by a
# common scale that is renormalized before they could underflow.
_RESCALE_BELOW = 1e-100


class _Prefix:
    """A node of the prefix trie: one reading so far, shared by every beam that reaches it.

    Extending a prefix is O(1) (a child lookup) and its LM score is computed once, however
    many frames and beams reach it, and only when the prefix could make the beam (`pending`
    until then: most extensions are pruned at once, and the LM is the search's main cost).
    """

    __slots__ = (
        "parent",
        "cls",
        "length",
        "start",
        "end",
        "peak",
        "lm_score",
        "lm_state",
        "bias",
        "pending",
        "children",
    )

    def __init__(self, parent, cls, start, peak, lm_score, lm_state, bias=0.0, pending=False):
        self.parent, self.cls = parent, cls
        self.length = parent.length + 1 if parent else 0
        self.start = self.end = start
        self.peak = peak  # probability
        self.lm_score, self.lm_state = lm_score, lm_state
        # Added to the log probability when ranking: lm_weight * LM score + length bonus. While
        # the LM score is pending, the parent's (an upper bound: LM log probabilities are <= 0).
        self.bias = bias
        self.pending = pending
        self.children: dict[int, _Prefix] = {}

    def spans(self, charset: Charset) -> tuple[CharSpan, ...]:
        nodes = []
        node = self
        while node.parent is not None:
            nodes.append(node)
            node = node.parent
        return tuple(
            CharSpan(charset.chars[n.cls - 1], n.peak, n.start, n.end) for n in reversed(nodes)
        )


def beam_search(
    log_probs: np.ndarray,
    charset: Charset,
    beam_width: int = 8,
    *,
    exclude: frozenset[int] = frozenset(),
    lm: CharLM | None = None,
    lm_weight: float = 0.0,
    length_bonus: float = 0.0,
    lm_state: object = None,
) -> list[tuple[str, float, tuple[CharSpan, ...]]]:
    """CTC prefix beam search; returns (text, log probability, spans), best first.

    `exclude` removes classes (the space, when reading a single word). With `lm`, beams are
    ranked by acoustic + lm_weight * LM log probability + length_bonus * characters (the bonus
    offsets the LM's preference for short readings); the returned log probability is the
    acoustic one. The LM's log probabilities must be <= 0 and lm_weight >= 0: a prefix is
    only scored by the LM once that bound says it could make the beam.
    """
    assert lm is None or lm_weight >= 0, "lazy LM scoring needs a non-negative weight"
    ranker = _Ranker(charset, beam_width, lm, lm_weight, length_bonus)
    root = _Prefix(None, BLANK, -1, 1.0, 0.0, lm_state)
    # Per prefix: [P(prefix, path ends in blank), P(prefix, path ends in its last char)]
    beams: dict[_Prefix, list[float]] = {root: [1.0, 0.0]}
    log_scale = 0.0  # the beams' probabilities are divided by exp(log_scale)
    for t, candidates, factor in _steps(log_probs, exclude):
        if candidates is None:  # blank-only frames: every reading just ends in blank
            beams = {node: [(b + nb) * factor, 0.0] for node, (b, nb) in beams.items()}
        else:
            beams = ranker.best(_extend(beams, t, candidates, ranker.weights))
        # The best beam's probability (the highest, or close to it with an LM) sets the scale.
        b, nb = next(iter(beams.values()), (1.0, 0.0))
        if 0.0 < (top := b + nb) < _RESCALE_BELOW:
            beams = {node: [b / top, nb / top] for node, (b, nb) in beams.items()}
            log_scale += math.log(top)
    results = []
    for node, (blank, nonblank) in sorted(beams.items(), key=ranker.score, reverse=True):
        spans = node.spans(charset)
        total = blank + nonblank
        log_prob = math.log(total) + log_scale if total > 0.0 else NEG_INF
        results.append(("".join(s.char for s in spans), log_prob, spans))
    _release(root)
    return results


def _release(root: _Prefix) -> None:
    """Cut the trie's parent-child reference cycles, so it is freed as soon as the search ends.

    Left to Python's cycle collector, the dead prefixes (about a thousand a line) pile up and
    make its collections costly: measured in a process holding the model, collection took ~4
    of ~13 ms a line with them, ~2.5 of ~11 without.
    """
    stack = [root]
    while stack:
        node = stack.pop()
        stack.extend(node.children.values())
        node.children.clear()


def _steps(log_probs: np.ndarray, exclude: frozenset[int]) -> list[tuple]:
    """The search's steps: (frame, [(class, probability), ...] above the pruning floor (at
    least the frame's best), 1.0).

    A run of frames where blank is the only candidate becomes one step (last frame, None,
    product of the blank probabilities): such frames only move each reading's mass to its
    blank ending and scale every beam alike, so the ranking cannot change and no prefix is
    created. Most CTC frames are such frames. Exact, not an approximation.
    """
    mask = log_probs > PRUNE_LOG_PROB
    if exclude:
        mask[:, sorted(exclude)] = False
    # A flat frame (an untrained model, a smudge) may have no class above the floor; without
    # a candidate every beam would die there. Its most likely class goes on.
    empty = ~mask.any(axis=1)
    if empty.any():
        allowed = log_probs.copy()
        if exclude:
            allowed[:, sorted(exclude)] = -np.inf
        mask[empty, allowed[empty].argmax(axis=1)] = True
    counts = mask.sum(axis=1)
    blank_only = ((counts == 1) & mask[:, BLANK]).tolist()
    frames, classes = np.nonzero(mask)  # row-major: frame by frame, classes ascending
    probs = np.exp(log_probs[frames, classes].astype(np.float64)).tolist()
    classes = classes.tolist()
    steps: list[tuple] = []
    i = 0
    for t, n in enumerate(counts.tolist()):
        if blank_only[t] and MERGE_BLANK_RUNS:
            factor = steps[-1][2] if steps and steps[-1][1] is None else None
            if factor is None:
                steps.append((t, None, probs[i]))
            else:
                steps[-1] = (t, None, factor * probs[i])
        else:
            steps.append((t, list(zip(classes[i : i + n], probs[i : i + n], strict=True)), 1.0))
        i += n
    return steps


def _extend(beams: dict, t: int, candidates: list, weights: tuple) -> dict:
    """One frame of the prefix search: every beam extended by every candidate class."""
    lm_weight, length_bonus, pending = weights
    extended: dict[_Prefix, list[float]] = {}
    for node, (blank, nonblank) in beams.items():
        total = blank + nonblank
        for c, p in candidates:
            if c == BLANK:
                probs = extended.get(node)
                if probs is None:
                    extended[node] = [total * p, 0.0]
                else:
                    probs[0] += total * p
                continue
            if c == node.cls:
                # The same character continues (no blank in between): same prefix.
                node.end = t
                if p > node.peak:
                    node.peak = p
                probs = extended.get(node)
                if probs is None:
                    extended[node] = [0.0, nonblank * p]
                else:
                    probs[1] += nonblank * p
                incoming = blank * p  # a doubled letter needs a blank in between
            else:
                incoming = total * p
            if not incoming:
                continue
            child = node.children.get(c)
            if child is None:
                bias = lm_weight * node.lm_score + length_bonus * (node.length + 1)
                child = _Prefix(node, c, t, p, node.lm_score, None, bias, pending)
                node.children[c] = child
            probs = extended.get(child)
            if probs is None:
                extended[child] = [0.0, incoming]
            else:
                probs[1] += incoming
    return extended


class _Ranker:
    """Keeps the best beams of a frame, asking the LM only about prefixes that could be kept."""

    def __init__(self, charset, beam_width, lm, lm_weight, length_bonus):
        self.chars = charset.chars
        self.beam_width = beam_width
        self.lm = lm
        self.lm_weight, self.length_bonus = lm_weight, length_bonus
        self.weights = (lm_weight, length_bonus, lm is not None)
        if lm is None and length_bonus == 0.0:  # no bias: rank by probability, no log needed
            self.score = _probability

    @staticmethod
    def score(item: tuple[_Prefix, list[float]]) -> float:
        node, (blank, nonblank) = item
        total = blank + nonblank
        return math.log(total) + node.bias if total > 0.0 else NEG_INF

    def best(self, extended: dict) -> dict:
        """The beam_width best beams, best first; ties keep their order (a stable sort)."""
        if self.lm is None:
            return dict(sorted(extended.items(), key=self.score, reverse=True)[: self.beam_width])
        # Best-first by upper bound: a pending prefix popped is scored by the LM and pushed
        # back with its true score, so the beams kept are exactly those a full sort would keep.
        # (Keys inlined, not self.score: this runs for every extension of every frame.)
        log = math.log
        heap = [
            (-(log(total) + node.bias) if (total := p[0] + p[1]) > 0.0 else math.inf, i, node, p)
            for i, (node, p) in enumerate(extended.items())
        ]
        heapq.heapify(heap)
        kept: dict[_Prefix, list[float]] = {}
        while heap and len(kept) < self.beam_width:
            _, i, node, probs = heapq.heappop(heap)
            if node.pending:
                self._score_with_lm(node)
                heapq.heappush(heap, (-self.score((node, probs)), i, node, probs))
            else:
                kept[node] = probs
        return kept

    def _score_with_lm(self, node: _Prefix) -> None:
        parent = node.parent
        char_log_prob, node.lm_state = self.lm(parent.lm_state, self.chars[node.cls - 1])
        node.lm_score = parent.lm_score + char_log_prob
        node.bias = self.lm_weight * node.lm_score + self.length_bonus * node.length
        node.pending = False


def _probability(item: tuple[_Prefix, list[float]]) -> float:
    return item[1][0] + item[1][1]


def decode(
    log_probs: np.ndarray,
    charset: Charset,
    *,
    beam_width: int = 1,
    alternatives: int = 0,
    lm: CharLM | None = None,
    lm_weight: float = 0.0,
    length_bonus: float = 0.0,
) -> Decoding:
    """Decode one line: text, confidences, words and up to `alternatives` readings per word."""
    if beam_width <= 1 and lm is None:
        spans = greedy_path(log_probs, charset)
    else:
        _, _, spans = beam_search(
            log_probs,
            charset,
            max(beam_width, 1),
            lm=lm,
            lm_weight=lm_weight,
            length_bonus=length_bonus,
        )[0]
    spans = _strip_spaces(list(spans))
    words = tuple(
        _word(log_probs, charset, word_spans, bounds, alternatives)
        for word_spans, bounds in _split_words(spans, len(log_probs))
    )
    text = " ".join(w.text for w in words)
    chars = tuple(spans)
    if chars:
        confidence = math.exp(sum(math.log(max(s.confidence, 1e-12)) for s in chars) / len(chars))
    else:  # an empty reading is as sure as its least sure blank frame
        confidence = float(np.exp(log_probs[:, BLANK]).min(initial=1.0))
    return Decoding(text=text, confidence=confidence, chars=chars, words=words)


def _strip_spaces(spans: list[CharSpan]) -> list[CharSpan]:
    """Drop leading, trailing and doubled spaces (the text is whitespace-collapsed)."""
    out: list[CharSpan] = []
    for span in spans:
        if span.char == " " and (not out or out[-1].char == " "):
            continue
        out.append(span)
    while out and out[-1].char == " ":
        out.pop()
    return out


def _split_words(spans: list[CharSpan], frames: int):
    """Yield (characters of a word, (first frame, last frame) of its window).

    A word's window runs from just after the space before it to just before the space after
    it, so an alternative reading may be longer or shorter than the chosen one, but never
    claims the frames where the model saw a space.
    """
    word: list[CharSpan] = []
    left = 0
    for span in spans + [CharSpan(" ", 1.0, frames, frames)]:
        if span.char != " ":
            word.append(span)
            continue
        if word:
            yield word, (left, max(left, span.start - 1))
        word, left = [], span.end + 1


def _word(
    log_probs: np.ndarray,
    charset: Charset,
    spans: list[CharSpan],
    bounds: tuple[int, int],
    alternatives: int,
) -> Word:
    text = "".join(s.char for s in spans)
    confidence = min(s.confidence for s in spans)
    readings: tuple[Alternative, ...] = (Alternative(text, confidence),)
    if alternatives > 1:
        readings = _word_alternatives(log_probs, charset, text, bounds, alternatives)
    return Word(text, confidence, spans[0].start, spans[-1].end, readings)


def _word_alternatives(
    log_probs: np.ndarray, charset: Charset, text: str, bounds: tuple[int, int], k: int
) -> tuple[Alternative, ...]:
    window = log_probs[bounds[0] : bounds[1] + 1]
    space = frozenset(charset.encode(" ")) if " " in charset else frozenset()
    found = beam_search(window, charset, beam_width=max(2 * k, 8), exclude=space)
    found = [(t, lp) for t, lp, _ in found if t]
    if not found:
        return (Alternative(text, 1.0),)
    top = max(lp for _, lp in found)
    weights = {t: math.exp(lp - top) for t, lp in found}
    norm = sum(weights.values())
    ranked = sorted(weights.items(), key=lambda kv: kv[1], reverse=True)
    # The chosen reading comes first even if the word-level search ranked it lower, so
    # alternatives never contradict the displayed text.
    ordered = [(text, weights.get(text, min(weights.values())))] + [
        (t, w) for t, w in ranked if t != text
    ]
    return tuple(Alternative(t, w / norm) for t, w in ordered[:k])
