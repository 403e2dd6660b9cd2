"""Parsing what users type into the search box (no database)."""

from recognition.search.syntax import Pattern, Query, parse


def test_words_must_all_match():
    assert parse("Stanford lecture") == Query(groups=((Pattern(("stanford",)),),
                                                      (Pattern(("lecture",)),)))


def test_quotes_make_a_phrase():
    assert parse('"Machine  Learning" notes').groups == (
        (Pattern(("machine", "learning"), exact=True),), (Pattern(("notes",)),))


def test_quoted_words_are_exact_and_others_are_not():
    query = parse('"Stanford" lecture e-mail')
    assert [pattern.exact for pattern in query.patterns] == [True, False, False]


def test_an_unclosed_quote_runs_to_the_end():
    assert parse('"machine learning').groups == (
        (Pattern(("machine", "learning"), exact=True),),)


def test_a_star_asks_for_a_prefix():
    assert parse("photo*").groups == ((Pattern(("photo",), prefix=True),),)


def test_a_one_letter_prefix_is_a_word():
    assert parse("a*").groups == ((Pattern(("a",)),),)


def test_a_minus_excludes_words_and_phrases():
    query = parse('lecture -draft -"old version"')
    assert query.groups == ((Pattern(("lecture",)),),)
    assert query.excluded == (Pattern(("draft",)), Pattern(("old", "version"), exact=True))


def test_or_joins_neighbours_into_one_group():
    assert parse("notes OR minutes meeting").groups == (
        (Pattern(("notes",)), Pattern(("minutes",))), (Pattern(("meeting",)),))


def test_lowercase_or_is_a_word():
    assert len(parse("notes or minutes").groups) == 3


def test_a_written_word_with_punctuation_is_a_phrase():
    assert parse("e-mail").groups == ((Pattern(("e", "mail")),),)


def test_words_are_normalized_like_the_index():
    assert parse("CAFÉ Straße").groups == ((Pattern(("café",)),), (Pattern(("strasse",)),))


def test_only_exclusions_or_punctuation_is_an_empty_query():
    assert parse("-draft").is_empty
    assert parse(' !! "" - * ').is_empty
