"""CTC decoding: greedy and prefix beam search, with confidences and per-word alternatives.

Inputs are log-probabilities of one line, shape (T, C), class 0 = blank. Confidences are
probabilities: a character's is the peak probability of its frames on the decoded path, a word's
the lowest of its characters' (one doubtful letter makes a doubtful word), a line's the geometric
mean of its characters'. Word alternatives come from a second beam search over the frames of that
word only, so they are readings of the same ink (Graves 2006; Hannun 2014 for the prefix search).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ml.charset import BLANK, Charset

NEG_INF = -math.inf
# Characters whose frame probability is below this are never considered by the beam search:
# they cannot win, and skipping them keeps the search cheap.
PRUNE_LOG_PROB = math.log(1e-4)


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


@dataclass
class _Beam:
    blank: float = NEG_INF  # log P(prefix, path ends in blank)
    nonblank: float = NEG_INF  # log P(prefix, path ends in its last character)
    spans: tuple[CharSpan, ...] = ()
    lm_score: float = 0.0
    lm_state: object = None

    @property
    def total(self) -> float:
        return _logsumexp(self.blank, self.nonblank)


def _logsumexp(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


def beam_search(
    log_probs: np.ndarray,
    charset: Charset,
    beam_width: int = 8,
    *,
    exclude: frozenset[int] = frozenset(),
    lm: CharLM | None = None,
    lm_weight: float = 0.0,
    lm_state: object = None,
) -> list[tuple[str, float, tuple[CharSpan, ...]]]:
    """CTC prefix beam search; returns (text, log probability, spans), best first.

    `exclude` removes classes (the space, when reading a single word). With `lm`, beams are
    ranked by acoustic + lm_weight * LM log probability; the returned log probability is the
    acoustic one.
    """
    def score(item: tuple[tuple[int, ...], _Beam]) -> float:
        return item[1].total + lm_weight * item[1].lm_score

    beams: dict[tuple[int, ...], _Beam] = {(): _Beam(blank=0.0, lm_state=lm_state)}
    for t in range(log_probs.shape[0]):
        frame = log_probs[t]
        candidates = [
            c for c in np.flatnonzero(frame > PRUNE_LOG_PROB).tolist() if c not in exclude
        ]
        next_beams: dict[tuple[int, ...], _Beam] = {}
        for prefix, beam in beams.items():
            total = beam.total
            for c in candidates:
                p = float(frame[c])
                if c == BLANK:
                    same = _continued(next_beams, prefix, beam)
                    same.blank = _logsumexp(same.blank, total + p)
                    continue
                last = prefix[-1] if prefix else None
                if c == last:
                    # Repeat without a blank between: the same character continues.
                    same = _continued(next_beams, prefix, beam)
                    same.nonblank = _logsumexp(same.nonblank, beam.nonblank + p)
                    _extend_span(same, t, p)
                    incoming = beam.blank + p  # a doubled letter needs a blank in between
                else:
                    incoming = total + p
                if incoming == NEG_INF:
                    continue
                new_prefix = prefix + (c,)
                extended = next_beams.get(new_prefix)
                if extended is None:
                    char = charset.chars[c - 1]
                    lm_score, state = beam.lm_score, beam.lm_state
                    if lm is not None:
                        char_lp, state = lm(beam.lm_state, char)
                        lm_score += char_lp
                    extended = next_beams[new_prefix] = _Beam(
                        spans=beam.spans + (CharSpan(char, math.exp(p), t, t),),
                        lm_score=lm_score,
                        lm_state=state,
                    )
                extended.nonblank = _logsumexp(extended.nonblank, incoming)
        beams = dict(sorted(next_beams.items(), key=score, reverse=True)[:beam_width])
    ranked = sorted(beams.items(), key=score, reverse=True)
    return [(charset.decode(prefix), beam.total, beam.spans) for prefix, beam in ranked]


def _continued(next_beams: dict, prefix: tuple[int, ...], parent: _Beam) -> _Beam:
    """The beam for `prefix` at this frame, created from its parent if new."""
    beam = next_beams.get(prefix)
    if beam is None:
        beam = next_beams[prefix] = _Beam(
            spans=parent.spans, lm_score=parent.lm_score, lm_state=parent.lm_state
        )
    return beam


def _extend_span(beam: _Beam, t: int, log_p: float) -> None:
    if not beam.spans:
        return
    last = beam.spans[-1]
    beam.spans = beam.spans[:-1] + (
        CharSpan(last.char, max(last.confidence, math.exp(log_p)), last.start, t),
    )


def decode(
    log_probs: np.ndarray,
    charset: Charset,
    *,
    beam_width: int = 1,
    alternatives: int = 0,
    lm: CharLM | None = None,
    lm_weight: float = 0.0,
) -> Decoding:
    """Decode one line: text, confidences, words and up to `alternatives` readings per word."""
    if beam_width <= 1 and lm is None:
        spans = greedy_path(log_probs, charset)
    else:
        _, _, spans = beam_search(
            log_probs, charset, max(beam_width, 1), lm=lm, lm_weight=lm_weight
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
