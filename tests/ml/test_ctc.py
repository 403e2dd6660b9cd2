import math

import numpy as np
import pytest

from ml.charset import Charset
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
