import gc
import math

import numpy as np
import pytest

from ml import ctc
from ml.charset import DEFAULT_CHARSET, Charset
from ml.ctc import beam_search, decode, greedy_path

CHARSET = Charset("ab ")  # classes: 0 blank, 1 a, 2 b, 3 space
BLANK, A, B, SPACE = 0, 1, 2, 3


def frames(*rows):
    """Log-probabilities from rows of probabilities (each row: blank, a, b, space)."""
    probs = np.array(rows, dtype=np.float64)
    assert np.allclose(probs.sum(axis=1), 1.0)
    with np.errstate(divide="ignore"):
        return np.log(probs)


def one_hot(cls, p=0.9):
    row = [(1 - p) / 3] * 4
    row[cls] = p
    return row


def test_greedy_collapses_repeats_and_drops_blanks():
    lp = frames(one_hot(A), one_hot(A), one_hot(BLANK), one_hot(B), one_hot(B))
    assert decode(lp, CHARSET).text == "ab"


def test_greedy_keeps_a_doubled_letter_separated_by_a_blank():
    lp = frames(one_hot(A), one_hot(BLANK), one_hot(A))
    assert decode(lp, CHARSET).text == "aa"


def test_greedy_spans_record_frames_and_peak_confidence():
    lp = frames(one_hot(A, 0.6), one_hot(A, 0.8), one_hot(BLANK), one_hot(B, 0.7))
    spans = greedy_path(lp, CHARSET)
    assert [(s.char, s.start, s.end) for s in spans] == [("a", 0, 1), ("b", 3, 3)]
    assert spans[0].confidence == pytest.approx(0.8)
    assert spans[1].confidence == pytest.approx(0.7)


def test_line_confidence_is_the_geometric_mean_of_characters():
    lp = frames(one_hot(A, 0.9), one_hot(BLANK), one_hot(B, 0.4))
    result = decode(lp, CHARSET)
    assert result.confidence == pytest.approx(math.sqrt(0.9 * 0.4))
    assert [c.confidence for c in result.chars] == pytest.approx([0.9, 0.4])


def test_beam_search_sums_paths_where_greedy_cannot():
    # Greedy reads blank, blank (""); but P("a") = 1 - 0.6**2 = 0.64 > P("") = 0.36.
    lp = frames([0.6, 0.4, 0.0, 0.0], [0.6, 0.4, 0.0, 0.0])
    assert decode(lp, CHARSET).text == ""
    best_text, best_log_prob, _ = beam_search(lp, CHARSET, beam_width=4)[0]
    assert best_text == "a"
    assert math.exp(best_log_prob) == pytest.approx(0.64)
    assert decode(lp, CHARSET, beam_width=4).text == "a"


def test_beam_search_probabilities_of_all_readings_sum_to_one():
    rng = np.random.default_rng(0)
    probs = rng.uniform(0.1, 1.0, (4, 3))  # every class above the pruning threshold
    probs /= probs.sum(axis=1, keepdims=True)
    lp = np.log(np.concatenate([probs, np.zeros((4, 1))], axis=1) + 1e-300)
    readings = beam_search(lp, CHARSET, beam_width=100)
    assert sum(math.exp(p) for _, p, _ in readings) == pytest.approx(1.0, abs=1e-6)


def test_words_carry_confidence_and_ranked_alternatives():
    # "ab ba" where the first word's second letter is b (0.55) or a (0.40).
    lp = frames(
        one_hot(A),
        one_hot(BLANK),
        [0.05, 0.40, 0.55, 0.0],
        one_hot(BLANK),
        one_hot(SPACE),
        one_hot(B),
        one_hot(BLANK),
        one_hot(A),
    )
    result = decode(lp, CHARSET, alternatives=3)
    assert result.text == "ab ba"
    first, second = result.words
    assert first.text == "ab"
    assert first.confidence == pytest.approx(0.55)
    texts = [alt.text for alt in first.alternatives]
    assert texts[0] == "ab"
    assert "aa" in texts
    probabilities = [alt.probability for alt in first.alternatives]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) <= 1.0 + 1e-9
    assert second.alternatives[0].text == "ba"
    assert second.alternatives[0].probability > 0.8


def test_alternatives_never_contain_spaces():
    lp = frames(one_hot(A), [0.1, 0.3, 0.3, 0.3], one_hot(B))
    for word in decode(lp, CHARSET, alternatives=5).words:
        assert all(" " not in alt.text for alt in word.alternatives)


def test_leading_trailing_and_double_spaces_are_dropped():
    lp = frames(
        one_hot(SPACE),
        one_hot(A),
        one_hot(SPACE),
        one_hot(BLANK),
        one_hot(SPACE),
        one_hot(B),
        one_hot(SPACE),
    )
    result = decode(lp, CHARSET)
    assert result.text == "a b"
    assert len(result.chars) == len(result.text)


def test_all_blank_line_is_empty_with_the_blank_confidence():
    lp = frames(one_hot(BLANK, 0.9), one_hot(BLANK, 0.7))
    result = decode(lp, CHARSET)
    assert (result.text, result.words) == ("", ())
    assert result.confidence == pytest.approx(0.7)


def test_a_character_language_model_can_change_the_reading():
    lp = frames([0.1, 0.5, 0.4, 0.0])

    def prefers_b(state, char):
        return (math.log(0.9) if char == "b" else math.log(0.1)), state

    assert decode(lp, CHARSET, beam_width=4).text == "a"
    assert decode(lp, CHARSET, beam_width=4, lm=prefers_b, lm_weight=1.0).text == "b"


def test_beam_search_matches_a_plain_log_domain_prefix_search():
    # The search works with probabilities, folds blank-only frames into one step and asks the
    # LM lazily; none of it may change the readings, their order or their probabilities.
    rng = np.random.default_rng(3)
    lm = _toy_lm(rng)
    for _ in range(20):
        lp = _noisy_line(rng, frames=40)
        options = {"lm": lm, "lm_weight": 0.8, "length_bonus": 0.5}
        found = beam_search(lp, CHARSET, beam_width=4, **options)
        expected = _reference_search(lp, beam_width=4, **options)
        assert [text for text, _, _ in found] == [text for text, _ in expected]
        assert [p for _, p, _ in found] == pytest.approx([p for _, p in expected])


def test_blank_runs_decode_identically_with_and_without_folding(monkeypatch):
    rng = np.random.default_rng(5)
    lm = _toy_lm(rng)
    lp = _noisy_line(rng, frames=120, blank_runs=True)
    options = {"beam_width": 8, "alternatives": 3, "lm": lm, "lm_weight": 0.5}
    folded = decode(lp, CHARSET, **options)
    monkeypatch.setattr(ctc, "MERGE_BLANK_RUNS", False)
    frame_by_frame = decode(lp, CHARSET, **options)
    assert folded.text and _layout(folded) == _layout(frame_by_frame)
    assert _numbers(folded) == pytest.approx(_numbers(frame_by_frame), rel=1e-9)


def _layout(decoding):
    """Everything but the probabilities: text, character frames, words and alternatives."""
    chars = [(c.char, c.start, c.end) for c in decoding.chars]
    words = [(w.text, w.start, w.end, [a.text for a in w.alternatives]) for w in decoding.words]
    return decoding.text, chars, words


def _numbers(decoding):
    """Every probability in a decoding (they differ by rounding when summed in another order)."""
    return [decoding.confidence, *(c.confidence for c in decoding.chars)] + [
        p for w in decoding.words for p in (w.confidence, *(a.probability for a in w.alternatives))
    ]


def test_a_long_line_keeps_finite_log_probabilities():
    # Probabilities are renormalized as the search goes: 3,000 frames of p = 0.5 would be
    # 2**-3000, far below the smallest double.
    lp = frames(*[[0.5, 0.5, 0.0, 0.0]] * 3000)
    readings = beam_search(lp, CHARSET, beam_width=2)
    assert readings[0][1] > -3000 * math.log(2)
    assert math.isfinite(readings[-1][1])


def _toy_lm(rng):
    """A CharLM with fixed random next-character probabilities per previous character."""
    table = {prev: np.log(rng.dirichlet(np.ones(3))) for prev in ("", "a", "b", " ")}

    def lm(state, char):
        return float(table[state or ""]["ab ".index(char)]), char

    return lm


def _noisy_line(rng, frames, blank_runs=False):
    """Random log-probabilities (blank, a, b, space), some classes under the pruning floor."""
    probs = rng.dirichlet(np.full(4, 0.4), size=frames)
    if blank_runs:  # stretches where the network is sure of blank, as between letters
        for start in range(0, frames, 15):
            probs[start : start + 9] = [0.999, 0.0005, 0.0003, 0.0002]
    return np.log(probs).astype(np.float32)


def _reference_search(lp, beam_width, lm, lm_weight, length_bonus):
    """A straightforward CTC prefix beam search in log space (Hannun 2014), every frame."""

    def add(a, b):
        return max(a, b) + math.log1p(math.exp(-abs(a - b))) if a > -math.inf else b

    beams = {"": (0.0, -math.inf, 0.0, None)}  # prefix: (log P blank, log P char, LM, state)
    for row in lp.astype(np.float64):
        extended = {}
        for prefix, (blank, char, lm_score, state) in beams.items():
            total = add(blank, char)
            for c in np.flatnonzero(row > ctc.PRUNE_LOG_PROB).tolist():
                p = row[c]
                if c == 0:
                    b, n, s, st = extended.get(prefix, (-math.inf, -math.inf, lm_score, state))
                    extended[prefix] = (add(b, total + p), n, s, st)
                    continue
                letter = CHARSET.chars[c - 1]
                if prefix.endswith(letter):
                    b, n, s, st = extended.get(prefix, (-math.inf, -math.inf, lm_score, state))
                    extended[prefix] = (b, add(n, char + p), s, st)
                incoming = blank + p if prefix.endswith(letter) else total + p
                if prefix + letter in extended:
                    b, n, s, st = extended[prefix + letter]
                else:
                    char_lm, st = lm(state, letter)
                    b, n, s = -math.inf, -math.inf, lm_score + char_lm
                extended[prefix + letter] = (b, add(n, incoming), s, st)

        def score(item):
            prefix, (b, n, s, _) = item
            return add(b, n) + lm_weight * s + length_bonus * len(prefix)

        beams = dict(sorted(extended.items(), key=score, reverse=True)[:beam_width])
    ranked = sorted(beams.items(), key=lambda item: score(item), reverse=True)
    return [(prefix, add(b, n)) for prefix, (b, n, _, _) in ranked]


def test_the_prefix_trie_is_freed_when_the_search_ends():
    # Without the cycle collector: a trie left to it made a third of the decoding time.
    rng = np.random.default_rng(7)
    lp = _noisy_line(rng, frames=60)
    gc.disable()
    try:
        beam_search(lp, CHARSET, beam_width=8, lm=_toy_lm(rng), lm_weight=0.5)
        assert not any(type(o) is ctc._Prefix for o in gc.get_objects())
    finally:
        gc.enable()


def test_frames_with_no_likely_class_do_not_end_the_search():
    """An untrained model, or a smudge, spreads a frame over all classes, none above the
    pruning floor; the search carries each frame's best class instead of losing every beam."""
    flat = np.log(np.full((12, len(DEFAULT_CHARSET.alphabet) + 1), 1 / 190, dtype=np.float32))
    flat += np.random.default_rng(0).normal(0, 0.05, flat.shape).astype(np.float32)
    assert beam_search(flat, DEFAULT_CHARSET, 8)
    decoding = decode(flat, DEFAULT_CHARSET, beam_width=8)
    assert decoding.text == "".join(s.char for s in greedy_path(flat, DEFAULT_CHARSET)).strip()
