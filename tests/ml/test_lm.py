import math

import numpy as np
import pytest

from ml.charset import Charset
from ml.ctc import decode
from ml.lm import CharNgramLM, tune
from ml.recognizer import Recognizer

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
    assert Recognizer.load(model).lm is None
    CharNgramLM.train(["note"], order=3, min_count=1).save(tmp_path / "charlm.json.gz")
    assert Recognizer.load(model).lm is not None
    assert Recognizer.load(model, use_lm=False).lm is None
