"""Searching a user's notes: syntax, typo tolerance, alternative readings, ranking, filters,
highlights. The same tests run on SQLite (FTS5) and PostgreSQL (tsvector + pg_trgm)."""

import datetime as dt

import pytest

from recognition.models import Note
from recognition.search.query import SearchResults, search


def texts(hits) -> list[str]:
    return [hit.text for hit in hits]


@pytest.fixture
def lecture(user, make_note):
    return make_note(user, [
        "Lecture at Stamford University",
        "the photographs of Stanford campus",
        "machine learning notes",
        "learning about machine tools",
        "draft of the essay",
        "final version of the essay",
    ], title="Lecture")


@pytest.mark.django_db
class TestSyntax:
    def test_all_words_must_match(self, user, lecture):
        assert texts(search(user, "essay final")) == ["final version of the essay"]

    def test_a_phrase_needs_its_words_in_order(self, user, lecture):
        assert texts(search(user, '"machine learning"')) == ["machine learning notes"]
        assert set(texts(search(user, "machine learning"))) == {
            "machine learning notes", "learning about machine tools"}

    def test_a_prefix_matches_word_starts(self, user, lecture):
        assert texts(search(user, "photo*")) == ["the photographs of Stanford campus"]
        assert search(user, "hotograph*") == []

    def test_a_minus_excludes(self, user, lecture):
        assert texts(search(user, "essay -draft")) == ["final version of the essay"]
        assert texts(search(user, 'machine -"machine learning"')) == [
            "learning about machine tools"]

    def test_or_finds_either(self, user, lecture):
        assert set(texts(search(user, "draft OR final"))) == {
            "draft of the essay", "final version of the essay"}

    def test_case_and_punctuation_do_not_matter(self, user, lecture):
        assert texts(search(user, "MACHINE-learning!")) == ["machine learning notes"]

    def test_a_query_with_nothing_to_find_finds_nothing(self, user, lecture):
        assert search(user, "-essay") == [] and search(user, "  ") == []
        assert SearchResults(user, "-essay").count() == 0


@pytest.mark.django_db
class TestTypos:
    def test_a_misread_line_is_found_by_the_right_spelling(self, user, lecture):
        [hit, fuzzy] = search(user, "Stanford")
        assert hit.text == "the photographs of Stanford campus" and hit.match == "exact"
        assert fuzzy.text == "Lecture at Stamford University" and fuzzy.match == "fuzzy"

    def test_a_typo_in_the_query_finds_the_line(self, user, lecture):
        assert texts(search(user, "univeristy")) == ["Lecture at Stamford University"]
        assert texts(search(user, "Stnaford campsu")) == ["the photographs of Stanford campus"]

    def test_a_misread_phrase_is_found_when_not_quoted(self, user, lecture):
        assert texts(search(user, "stanford-university")) == ["Lecture at Stamford University"]

    def test_fewer_edits_are_allowed_in_short_words(self, user, make_note):
        make_note(user, ["tree house", "a bee sat"])
        assert texts(search(user, "tres")) == ["tree house"]  # 4 letters: one edit
        assert search(user, "trxx") == []  # not two
        assert search(user, "be") == []  # 2 letters: exact only
        assert texts(search(user, "houze")) == ["tree house"]

    def test_numbers_are_not_fuzzy(self, user, make_note):
        make_note(user, ["budget 2019"])
        assert search(user, "2018") == []

    def test_a_prefix_is_not_fuzzy(self, user, lecture):
        assert search(user, "phtoo*") == []


@pytest.mark.django_db
class TestExactPhrases:
    def test_a_quoted_phrase_finds_only_lines_with_exactly_that_phrase(self, user, make_note):
        make_note(user, ["Lecture at Stamford University", "Stanford University library",
                         "a Stanford and a University"])
        hits = search(user, '"stanford university"')
        assert [(h.text, h.match) for h in hits] == [("Stanford University library", "exact")]

    def test_a_quoted_phrase_ignores_case_spacing_and_punctuation(self, user, make_note):
        make_note(user, ["see: STANFORD,   University (main)"])
        assert texts(search(user, '"Stanford  university"')) == [
            "see: STANFORD,   University (main)"]

    def test_a_quoted_phrase_matches_accents_as_the_index_normalizes_them(self, user, make_note):
        make_note(user, ["Café Noir menu", "Cafe Noir menu"])
        assert texts(search(user, '"CAFÉ noir"')) == ["Café Noir menu"]

    def test_a_quoted_word_skips_similar_spellings_and_alternative_readings(self, user,
                                                                            make_note):
        make_note(user, ["Stanford again", "a Stanfrd visit",
                         ("the Sxxxxord office", {"Sxxxxord": ["Stanford"]})])
        assert [(h.text, h.match) for h in search(user, '"stanford"')] == [
            ("Stanford again", "exact")]

    def test_words_outside_the_quotes_stay_typo_tolerant(self, user, make_note):
        make_note(user, ["machine learning at Stamford", "machine lerning at Stanford"])
        hits = search(user, '"machine learning" stanford')
        assert [(h.text, h.match) for h in hits] == [("machine learning at Stamford", "fuzzy")]


@pytest.mark.django_db
class TestAlternatives:
    def test_an_alternative_reading_finds_the_line_below_text_matches(self, user, make_note):
        make_note(user, [("mcct Ann at noon", {"mcct": ["meet", "mcet"]}), "we meet at five"])
        hits = search(user, "meet")
        assert [(h.text, h.match) for h in hits] == [
            ("we meet at five", "exact"), ("mcct Ann at noon", "alternative")]
        assert hits[1].highlights == ((0, 4),) and hits[1].snippet.startswith("<mark>mcct</mark>")

    def test_a_corrected_line_forgets_the_machine_alternatives(self, user, make_note,
                                                                django_capture_on_commit_callbacks):
        from recognition.revisions import lines_update

        note = make_note(user, [("mcct Ann", {"mcct": ["meet"]})])
        line = note.pages.get().lines.get()
        with django_capture_on_commit_callbacks(execute=True):
            lines_update(user=user, note=note, edits={line.pk: "mcct Anne"},
                         base_revision=note.revision)
        assert search(user, "meet") == []


@pytest.mark.django_db
def test_ranking_is_exact_then_fuzzy_then_alternative(user, make_note):
    make_note(user, [
        ("the Stamfard report", {"Stamfard": ["Stanford"]}),  # 2 edits: fuzzy, far
        ("a Stanfrd visit", {}),  # 1 edit: fuzzy, near
        ("Stanford again", {}),  # exact
        ("the Sxxxxord office", {"Sxxxxord": ["Stanford"]}),  # only the alternative reading
    ])
    hits = search(user, "stanford")
    assert [(h.text, h.match) for h in hits] == [
        ("Stanford again", "exact"), ("a Stanfrd visit", "fuzzy"),
        ("the Stamfard report", "fuzzy"), ("the Sxxxxord office", "alternative")]


@pytest.mark.django_db
def test_a_hit_locates_the_line_and_marks_the_match(user, make_note):
    collection = user.collections.create(name="Physics")
    note = make_note(user, {1: ["first page"], 2: ["intro", "Bring <b>Stamford</b> & notes"]},
                     title="Week 3", collection=collection, note_date=dt.date(2026, 3, 2))
    [hit] = search(user, "stanford")
    line = note.pages.get(number=2).lines.get(order=1)
    assert (hit.note_id, hit.note_title, hit.collection_id, hit.collection_name) == (
        note.pk, "Week 3", collection.pk, "Physics")
    assert (hit.note_date, hit.line_id, hit.page_number, hit.polygon) == (
        dt.date(2026, 3, 2), line.pk, 2, line.polygon)
    assert hit.highlights == ((9, 17),) and hit.text[9:17] == "Stamford"
    assert hit.snippet == "Bring &lt;b&gt;<mark>Stamford</mark>&lt;/b&gt; &amp; notes"


@pytest.mark.django_db
class TestFilters:
    @pytest.fixture
    def notes(self, user, make_note):
        physics = user.collections.create(name="Physics")
        return {
            "march": make_note(user, ["orbit notes"], title="March", collection=physics,
                               note_date=dt.date(2026, 3, 1), tags=["exam"]),
            "may": make_note(user, ["orbit notes"], title="May", collection=physics,
                             note_date=dt.date(2026, 5, 1)),
            "undated": make_note(user, ["orbit notes"], title="Undated", tags=["exam"]),
        }

    def titles(self, user, **filters) -> list[str]:
        return sorted(hit.note_title for hit in search(user, "orbit", **filters))

    def test_by_collection(self, user, notes):
        assert self.titles(user, collection=notes["march"].collection) == ["March", "May"]

    def test_by_tag(self, user, notes):
        assert self.titles(user, tag="exam") == ["March", "Undated"]

    def test_by_note_date(self, user, notes):
        assert self.titles(user, date_from=dt.date(2026, 4, 1),
                           date_to=dt.date(2026, 6, 1)) == ["May"]

    def test_undated_notes_go_by_upload_date(self, user, notes):
        Note.objects.filter(pk=notes["undated"].pk).update(
            created=dt.datetime(2025, 12, 24, 12, tzinfo=dt.UTC))
        assert self.titles(user, date_to=dt.date(2025, 12, 31)) == ["Undated"]
        [hit] = search(user, "orbit", date_to=dt.date(2025, 12, 31))
        assert hit.note_date == dt.date(2025, 12, 24)


@pytest.mark.django_db
def test_results_page_like_a_queryset(user, make_note):
    make_note(user, [f"line {n} about orbits" for n in range(25)])
    results = SearchResults(user, "orbits")
    assert results.count() == len(results) == 25
    first, second = results[0:20], results[20:40]
    assert len(first) == 20 and len(second) == 5
    assert not {h.line_id for h in first} & {h.line_id for h in second}


@pytest.mark.django_db
def test_another_users_lines_are_never_found(user, other_user, make_note):
    make_note(other_user, ["Bob's secret Stanford plan"])
    make_note(user, ["Alice at Stanford"])
    assert texts(search(user, "stanford")) == ["Alice at Stanford"]
    assert search(user, "secret") == [] and search(user, "secr*") == []
    assert search(user, "secrte") == []  # nor do Bob's words widen Alice's typos
