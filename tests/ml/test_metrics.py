import pytest

from ml.metrics import ErrorCounter, error_rates


def test_identical_texts_have_no_errors():
    assert error_rates(["hello world"], ["hello world"]) == (0.0, 0.0)


def test_cer_and_wer_are_corpus_level_not_line_means():
    # Line 1: 1 edit / 2 chars; line 2: 0 edits / 8 chars. Mean of rates would be 0.25.
    cer, wer = error_rates(["ab", "abcdefgh"], ["ac", "abcdefgh"])
    assert cer == pytest.approx(1 / 10)
    assert wer == pytest.approx(1 / 2)


def test_whitespace_is_collapsed_and_case_counts():
    counter = ErrorCounter()
    counter.add("Hello   World ", "hello world")
    assert counter.char_edits == 2
    assert counter.word_edits == 2


def test_nfc_forms_compare_equal():
    assert error_rates(["e\u0301"], ["é"]) == (0.0, 0.0)


def test_word_errors_count_insertions():
    counter = ErrorCounter()
    counter.add("a b c", "a c")
    assert (counter.word_edits, counter.words) == (1, 2)
