"""Words as the index stores them, edit budgets, the highlighter (no database)."""

from recognition.search.highlight import highlight, snippet
from recognition.search.plan import Term
from recognition.search.text import max_edits, word_spans, words


def test_words_are_folded_and_split_at_punctuation():
    assert words("Stanford's CAFÉ, e-mail: Straße ﬁsh") == [
        "stanford", "s", "café", "e", "mail", "strasse", "fish"]


def test_decomposed_accents_stay_in_their_word():
    assert words("cafe\u0301 au lait") == ["café", "au", "lait"]


def test_word_spans_are_offsets_into_the_written_text():
    assert list(word_spans("Hi, Ann!")) == [(0, 2, ["hi"]), (4, 7, ["ann"])]


def test_edit_budget_grows_with_word_length_and_spares_numbers():
    assert [max_edits(w) for w in ("at", "cat", "house", "stanford", "2019")] == [0, 1, 1, 2, 0]


def test_highlight_marks_words_and_escapes_the_rest():
    marked = highlight("<b>Stamford</b> & co", [Term(options=(("stanford", "stamford"),))])
    assert marked.spans == ((3, 11),)
    assert marked.snippet == "&lt;b&gt;<mark>Stamford</mark>&lt;/b&gt; &amp; co"


def test_highlight_marks_a_phrase_as_one_span_and_only_in_order():
    term = Term(options=(("machine",), ("learning",)))
    assert highlight("learning machine learning", [term]).spans == ((9, 25),)


def test_highlight_marks_prefixes():
    assert highlight("Photographs, photos", [Term(options=(("photo",),), prefix=True)]).spans \
        == ((0, 11), (13, 19))


def test_highlight_marks_the_word_whose_alternative_reading_matched():
    words = [{"text": "mcct", "alternatives": [{"text": "mcct"}, {"text": "meet"}]},
             {"text": "Ann", "alternatives": [{"text": "Ann"}]}]
    term = Term(options=(("meet",),), in_alternatives=True)
    assert highlight("mcct Ann", [term], words).spans == ((0, 4),)


def test_a_long_line_is_cut_around_its_first_match():
    text = "word " * 60 + "Stanford " + "tail " * 40
    start = text.index("Stanford")
    html = snippet(text, [(start, start + 8)])
    assert html.startswith("…") and html.endswith("…") and "<mark>Stanford</mark>" in html
    assert len(html.replace("<mark>", "").replace("</mark>", "")) <= 162
