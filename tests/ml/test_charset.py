import pytest

from ml.charset import BLANK, DEFAULT_CHARSET, Charset, collapse_whitespace


def test_every_character_round_trips_through_its_class_id():
    text = DEFAULT_CHARSET.alphabet
    ids = DEFAULT_CHARSET.encode(text)
    assert BLANK not in ids
    assert DEFAULT_CHARSET.decode(ids) == text


def test_charset_covers_ascii_accents_and_typography():
    for char in "azAZ09 !~éàèçüñœÉ’“”–—£€°":
        assert char in DEFAULT_CHARSET


def test_class_count_includes_the_blank():
    assert len(DEFAULT_CHARSET) == len(DEFAULT_CHARSET.alphabet) + 1


def test_decode_skips_blanks_without_collapsing_repeats():
    ids = DEFAULT_CHARSET.encode("aa")
    assert DEFAULT_CHARSET.decode([BLANK, ids[0], BLANK, ids[1]]) == "aa"


def test_encode_rejects_characters_outside_the_alphabet():
    with pytest.raises(KeyError):
        DEFAULT_CHARSET.encode("日")


def test_duplicate_alphabet_is_refused():
    with pytest.raises(ValueError):
        Charset("abca")


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("  two\t words \n", "two words"),
        ("e\u0301te\u0301", "été"),  # decomposed accents become NFC
        ("ﬁne ﬂow", "fine flow"),
        ("non\u00a0breaking", "non breaking"),
        ("a\u2010b\u2212c", "a-b-c"),
        ("wait\u2026", "wait..."),
        ("Łódź ā ŵ", "Lódz a w"),  # accents outside the alphabet are dropped
        ("emoji 🙂 gone", "emoji gone"),
        ("„quoted‟", '"quoted"'),
        ("a → b ⇒ c", "a -> b => c"),
        ("it’s “fine”", "it’s “fine”"),  # typographic quotes are kept
    ],
)
def test_normalize_maps_text_onto_the_alphabet(raw, normalized):
    assert DEFAULT_CHARSET.normalize(raw) == normalized


def test_normalized_text_always_encodes():
    messy = "Ça coûte 12€ — “vraiment” ½ ⅓ ﬃ 日本 \u200b ok"
    DEFAULT_CHARSET.encode(DEFAULT_CHARSET.normalize(messy))


def test_collapse_whitespace_is_nfc():
    assert collapse_whitespace("a\u0300  b") == "à b"
