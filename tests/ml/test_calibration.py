import logging

import numpy as np
import pytest

from ml.calibration import (
    Calibration,
    Logistic,
    Maps,
    Observations,
    calibration_for,
    confidence_features,
    fit_logistic,
    fit_maps,
    flag_quality,
    load_calibration,
    logit,
    model_identity,
    word_correctness,
    word_features,
)
from ml.charset import DEFAULT_CHARSET
from ml.checkpoint import save_model
from ml.ctc import Alternative, Word
from ml.errors import CheckpointError
from ml.model import CRNN
from ml.recognizer import RecognizedLine, Recognizer
from tests.ml.conftest import TINY_MODEL

LM = {"weight": 0.55, "length_bonus": 1.5, "order": 6, "contexts": 1000, "beam_width": 8}
IDENTITY = {"model_created": "2026-01-01T00:00:00+00:00", "lm": LM}
GRID = np.linspace(0.0, 1.0, 201)
WITH_LM = Maps(Logistic((0.3, 0.6, 0.5), 0.1), Logistic((1.2, 1.0), 1.3))
GREEDY = Maps(Logistic((1.5, 2.0, 0.2), -3.0), Logistic((1.0, 1.0), 0.5))


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def overconfident_words(n=20_000, seed=0):
    """Raw confidences whose true P(right) is sigmoid(0.5 logit(c) - 0.3), whatever the line's."""
    rng = np.random.default_rng(seed)
    confidence, line_confidence = rng.beta(4, 1, n), rng.beta(3, 1, n)
    right = rng.random(n) < sigmoid(0.5 * logit(confidence) - 0.3)
    return confidence, line_confidence, right


def a_calibration(identity=IDENTITY):
    return Calibration(identity, WITH_LM, GREEDY)


def test_word_correctness_marks_misread_and_merged_words_wrong():
    # Case counts, as in CER and WER; whitespace runs do not.
    right = word_correctness("the cat sat on teh  mat", "The cat sat\ton the mat")
    assert right == [False, True, True, True, False, True]
    assert word_correctness("thecat sat", "the cat sat") == [False, True]
    assert word_correctness("", "a b") == []


def test_calibrated_confidence_never_decreases_and_stays_a_probability():
    confidence, line_confidence, right = overconfident_words(2_000)
    maps = fit_maps(_observations(confidence, line_confidence, right))
    for other in (0.05, 0.5, 0.99):
        across_words = maps.word_probability(GRID, np.full(len(GRID), other))
        across_lines = maps.word_probability(np.full(len(GRID), other), GRID)
        for p in (across_words, across_lines, maps.line_probability(GRID)):
            assert np.all(np.diff(p) >= 0) and p.min() >= 0 and p.max() <= 1


def test_fit_never_lets_probability_fall_as_raw_confidence_rises():
    # Data where sure words are wrong more often: the fit must not turn the ranking upside down.
    rng = np.random.default_rng(1)
    confidence = rng.random(500)
    right = rng.random(500) < 1 - confidence
    model = fit_logistic(confidence_features(confidence), right)
    assert model.weights == (0.0, 0.0)
    assert model(confidence_features([0.1, 0.9]))[0] == pytest.approx(right.mean(), abs=1e-3)


def test_fit_recovers_a_known_miscalibration():
    confidence, line_confidence, right = overconfident_words()
    model = fit_logistic(word_features(confidence, line_confidence), right)
    truth = sigmoid(0.5 * logit(GRID[1:-1]) - 0.3)
    fitted = model(word_features(GRID[1:-1], np.full(len(GRID) - 2, 0.8)))
    assert np.abs(fitted - truth).max() < 0.03
    # Before: words with raw confidence 0.9 were taken for 90% right; they are 69% right.
    assert model(word_features([0.9], [0.8]))[0] == pytest.approx(0.69, abs=0.02)


def test_line_fit_predicts_the_share_of_characters_right():
    rng = np.random.default_rng(2)
    confidence = rng.beta(3, 1, 3_000)
    accuracy = sigmoid(1.5 * logit(confidence) - 0.5)  # soft labels: 1 - CER of each line
    model = fit_logistic(confidence_features(confidence), accuracy, rng.integers(10, 60, 3_000))
    assert model.weights == pytest.approx((1.5, 1.5), abs=0.01)
    assert model.bias == pytest.approx(-0.5, abs=0.01)


def test_calibration_survives_a_save_and_load(tmp_path):
    calibration = a_calibration()
    calibration.save(tmp_path / "calibration.json")
    loaded = Calibration.load(tmp_path / "calibration.json")
    assert loaded.identity == IDENTITY
    assert (loaded.with_lm, loaded.greedy) == (WITH_LM, GREEDY)
    assert loaded.with_lm.word_probability([0.5], [0.7]) == WITH_LM.word_probability([0.5], [0.7])


def test_a_calibration_for_another_model_is_refused(tmp_path):
    a_calibration().save(tmp_path / "calibration.json")
    other = {**IDENTITY, "model_created": "2026-02-02T00:00:00+00:00"}
    with pytest.raises(CheckpointError, match="was fitted for another model or LM"):
        load_calibration(tmp_path / "calibration.json", other)


def test_a_calibration_for_other_lm_settings_is_refused(tmp_path):
    a_calibration().save(tmp_path / "calibration.json")
    retuned = {**IDENTITY, "lm": {**LM, "weight": 0.7}}
    with pytest.raises(CheckpointError, match="was fitted for another model or LM"):
        load_calibration(tmp_path / "calibration.json", retuned)


def test_a_recognizer_reading_without_its_lm_keeps_the_calibration(tmp_path):
    a_calibration().save(tmp_path / "calibration.json")
    loaded = load_calibration(tmp_path / "calibration.json", {**IDENTITY, "lm": None})
    assert loaded.maps(with_lm=False) == GREEDY


def test_apply_calibrates_words_and_line_but_not_characters_or_alternatives():
    word = Word("cat", 0.9, 0, 5, (Alternative("cat", 0.7), Alternative("cot", 0.3)))
    line = RecognizedLine("cat", 0.95, (0.99, 0.9, 0.97), (word,))
    calibrated = a_calibration().apply(line, with_lm=True)
    assert calibrated.words[0].confidence == pytest.approx(
        WITH_LM.word_probability([0.9], [0.95])[0]
    )
    assert calibrated.confidence == pytest.approx(WITH_LM.line_probability(0.95)[0])
    assert calibrated.char_confidences == line.char_confidences
    assert calibrated.words[0].alternatives == word.alternatives


def test_greedy_readings_are_calibrated_with_their_own_maps():
    line = RecognizedLine("cat", 0.95, (0.99, 0.9, 0.97), (Word("cat", 0.9, 0, 5, ()),))
    calibrated = a_calibration().apply(line, with_lm=False)
    assert calibrated.words[0].confidence == pytest.approx(
        GREEDY.word_probability([0.9], [0.95])[0]
    )
    assert calibrated.confidence == pytest.approx(GREEDY.line_probability(0.95)[0])


def test_recognizer_reads_with_the_calibration_fitted_for_its_model(tmp_path):
    path = _model_file(tmp_path)
    recognizer = Recognizer.load(path, use_lm=False)  # greedy readings
    a_calibration(model_identity(recognizer.metadata, None)).save(
        path.with_name("calibration.json")
    )
    calibrated = Recognizer.load(path, use_lm=False)
    image = np.random.default_rng(0).integers(0, 255, (24, 120), dtype=np.uint8)
    raw_line = recognizer.recognize([image])[0]
    line = calibrated.recognize([image])[0]
    assert line.confidence == pytest.approx(GREEDY.line_probability(raw_line.confidence)[0])


def test_recognizer_ignores_a_stale_calibration_with_a_warning(tmp_path, caplog):
    path = _model_file(tmp_path)
    a_calibration().save(path.with_name("calibration.json"))  # another model's creation stamp
    with caplog.at_level(logging.WARNING, logger="ml.calibration"):
        recognizer = Recognizer.load(path, use_lm=False)
    assert recognizer.calibration is None
    assert "was fitted for another model or LM" in caplog.text


def test_calibration_beside_a_model_is_optional(tmp_path):
    assert calibration_for(tmp_path / "model.pt", {"created": "x"}, None) is None


def test_unsure_flag_precision_and_recall_count_wrong_words():
    p_right = [0.1, 0.2, 0.5, 0.9, 0.95]
    right = [False, True, False, False, True]
    precision, recall, flagged = flag_quality(p_right, right, 0.6)
    assert (precision, recall, flagged) == pytest.approx((2 / 3, 2 / 3, 0.6))


def _model_file(tmp_path):
    path = tmp_path / "model.pt"
    save_model(path, CRNN(TINY_MODEL), DEFAULT_CHARSET, {"purpose": "tests"})
    return path


def _observations(confidence, line_confidence, right):
    obs = Observations()
    obs.word_confidence, obs.word_right = list(confidence), list(right)
    obs.word_line_confidence = list(line_confidence)
    obs.line_confidence = list(line_confidence[:200])
    obs.line_accuracy = list(np.where(right[:200], 0.9, 0.6))
    obs.line_chars = [20] * 200
    return obs


def test_a_calibration_stored_in_the_model_file_wins_over_the_one_beside_it(tmp_path):
    """A fine-tuned model carries its own maps (ml.finetune); the file beside it is its
    base's, fitted for other weights."""
    path = tmp_path / "model.pt"
    embedded = Calibration({"model_created": "whatever", "lm": None}, None, GREEDY)
    save_model(path, CRNN(TINY_MODEL), DEFAULT_CHARSET, {"calibration": embedded.to_dict()})
    a_calibration().save(path.with_name("calibration.json"))

    recognizer = Recognizer.load(path, use_lm=False)

    assert recognizer.calibration.greedy == GREEDY and recognizer.calibration.with_lm is None


def test_a_stored_calibration_for_other_lm_settings_is_ignored_with_a_warning(tmp_path, caplog):
    class OtherLM:
        weight, length_bonus, order, counts = 0.9, 1.5, 6, range(1000)

    metadata = {"created": "x", "calibration": a_calibration().to_dict()}
    with caplog.at_level(logging.WARNING, logger="ml.calibration"):
        assert calibration_for(tmp_path / "model.pt", metadata, OtherLM()) is None
        assert calibration_for(tmp_path / "model.pt", {"calibration": {"bad": 1}}, None) is None
    assert "was fitted for another model or LM" in caplog.text
    assert "Cannot read the calibration stored in" in caplog.text
    same = calibration_for(tmp_path / "model.pt", metadata, None)  # greedy: the LM is moot
    assert same.greedy == GREEDY
