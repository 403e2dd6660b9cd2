import math
from pathlib import Path

import numpy as np
import pytest

from ml.charset import Charset
from ml.ctc import decode
from ml.errors import CheckpointError
from ml.lm import CACHE_ENTRIES, CharNgramLM, tune
from ml.recognizer import ERROR_NO_LM, LM_FILE_NAME, Recognizer

ROOT = Path(__file__).resolve().parents[2]

CHARSET = Charset("ab ")


def test_next_character_probabilities_sum_to_one():
    lm = CharNgramLM.train(["ab ab abba", "baa"], order=3, charset=CHARSET, min_count=1)
    for context in (lm.initial_state(), "ab", "b ", "zz"):
        total = sum(math.exp(lm.log_prob(context, c)) for c in CHARSET.alphabet)
        assert total == pytest.approx(1.0)


def test_frequent_continuations_are_more_likely():
    lm = CharNgramLM.train(["the cat sat on the mat"] * 3, order=4, min_count=1)
    assert lm.log_prob("th", "e") > lm.log_prob("th", "x") + 3
    state = lm.initial_state()
    for char in "the ca":
        _, state = lm(state, char)
    assert state == "e ca"[-3:]


def test_save_and_load_keep_counts_and_decoding_settings(tmp_path):
    lm = CharNgramLM.train(["note to self"], order=3, min_count=1)
    lm.weight, lm.length_bonus = 0.7, 2.0
    lm.save(tmp_path / "lm.json.gz")
    loaded = CharNgramLM.load(tmp_path / "lm.json.gz")
    assert (loaded.order, loaded.weight, loaded.length_bonus) == (3, 0.7, 2.0)
    assert loaded.log_prob("no", "t") == pytest.approx(lm.log_prob("no", "t"))


def test_the_language_model_settles_an_ambiguous_letter():
    lm = CharNgramLM.train(["ab ab ab ab"], order=3, charset=CHARSET, min_count=1)
    # "a?" where the network slightly prefers "a" over "b" for the second letter.
    rows = [[0.05, 0.9, 0.05, 0.0], [0.9, 0.05, 0.05, 0.0], [0.1, 0.52, 0.38, 0.0]]
    log_probs = np.log(np.array(rows) + 1e-12)
    assert decode(log_probs, CHARSET, beam_width=4).text == "aa"
    assert decode(log_probs, CHARSET, beam_width=4, lm=lm, lm_weight=1.0).text == "ab"


def test_tuning_stores_the_best_grid_point(tmp_path, tiny_model_file, tiny_overfit):
    import cv2

    from ml.manifest import ManifestEntry, write_manifest
    from tests.ml.overfit import WORDS

    _, _, images = tiny_overfit
    entries = []
    for i, (image, word) in enumerate(zip(images, WORDS, strict=True)):
        cv2.imwrite(str(tmp_path / f"{i}.png"), image)
        entries.append(ManifestEntry(tmp_path / f"{i}.png", word))
    write_manifest(tmp_path / "val.tsv", entries)
    lm = CharNgramLM.train(list(WORDS) * 5, order=4, min_count=1)
    grid = tune(lm, tiny_model_file, [tmp_path / "val.tsv"])
    best = min(grid)
    assert (lm.weight, lm.length_bonus) == best[1:]
    assert best[0] == 0.0


def test_recognizer_uses_the_language_model_beside_the_model_file(tmp_path, tiny_model_file):
    import shutil

    model = tmp_path / "crnn.pt"
    shutil.copy(tiny_model_file, model)
    CharNgramLM.train(["note"], order=3, min_count=1).save(tmp_path / "charlm.json.gz")
    assert Recognizer.load(model, runtime="torch").lm is not None
    assert Recognizer.load(model, use_lm=False, runtime="torch").lm is None


def test_a_missing_language_model_is_a_loud_error(tmp_path, tiny_model_file):
    import shutil

    model = tmp_path / "crnn.pt"
    shutil.copy(tiny_model_file, model)
    with pytest.raises(CheckpointError) as raised:
        Recognizer.load(model, runtime="torch")
    expected = ERROR_NO_LM.format(path=tmp_path / LM_FILE_NAME, name=LM_FILE_NAME)
    assert str(raised.value) == expected
    with pytest.raises(CheckpointError, match="No language model at .*elsewhere.json.gz"):
        Recognizer.load(model, lm_path=tmp_path / "elsewhere.json.gz", runtime="torch")


def test_the_committed_language_model_is_packaged_beside_the_model():
    import fnmatch
    import tomllib

    from ml.recognizer import DEFAULT_MODEL

    lm_file = DEFAULT_MODEL.with_name(LM_FILE_NAME)
    assert lm_file.is_file()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["ml"]
    packaged = lm_file.relative_to(ROOT / "ml").as_posix()
    assert any(fnmatch.fnmatch(packaged, pattern) for pattern in globs)


def test_repeated_questions_are_answered_from_a_bounded_cache():
    lm = CharNgramLM.train(["the cat sat on the mat"], order=4, min_count=1)
    first = lm("the", " ")
    assert lm("the", " ") == first == (lm.log_prob("the", " "), "he ")
    info = lm._next.cache_info()
    assert (info.hits, info.maxsize) == (1, CACHE_ENTRIES)


def test_pruned_contexts_back_off_like_the_full_interpolation():
    # Scoring stops at the first unknown context: with pruning, every longer one is unknown too.
    text = ["ab ab abba baa", "abab bab", "ba ab"] * 2 + ["bbb aaa"]
    lm = CharNgramLM.train(text, order=4, charset=CHARSET, min_count=3)
    for context in ("\x02\x02\x02", "ab ", "bab", "aaa", "bbb", " ba"):
        for char in CHARSET.alphabet:
            assert lm.log_prob(context, char) == pytest.approx(
                math.log(_interpolated(lm, context, char))
            )


def _interpolated(lm: CharNgramLM, context: str, char: str) -> float:
    """Witten-Bell interpolation over every suffix of the context, as first written."""
    prob = 1.0 / len(lm.alphabet)
    for k in range(len(context) + 1):
        following = lm.counts.get(context[len(context) - k :])
        if following:
            types, total = len(following), sum(following.values())
            prob = (following.get(char, 0) + types * prob) / (total + types)
    return prob
