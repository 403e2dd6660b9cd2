"""What each database is asked (no database): tiers, FTS5 and tsquery syntax, trigram bounds."""

from rapidfuzz.distance import OSA

from recognition.search.backends import fts_query, trigram_threshold, tsquery
from recognition.search.plan import Condition, Term, Tier, tiers
from recognition.search.syntax import parse

VARIANTS = {"stanford": (("stamford", 1), ("stafford", 2)), "university": ()}


def test_tiers_widen_from_exact_to_near_to_fuzzy_to_alternatives():
    result = tiers(parse("stanford"), VARIANTS)
    assert [tier for tier, _ in result] == [Tier.EXACT, Tier.NEAR, Tier.FUZZY, Tier.ALTERNATIVE]
    assert [c.terms[0].options for _, c in result] == [
        (("stanford",),), (("stanford", "stamford"),), (("stanford", "stamford", "stafford"),),
        (("stanford", "stamford", "stafford"),)]
    assert result[-1][1].terms[0].in_alternatives


def test_tiers_that_add_nothing_are_left_out():
    # No variants, and a phrase is not looked up among the alternative readings.
    assert [tier for tier, _ in tiers(parse('"machine learning"'), {})] == [Tier.EXACT]


def test_a_quoted_phrase_keeps_its_words_as_typed_in_every_tier():
    result = tiers(parse('"stanford university" stanford'), VARIANTS)
    assert [tier for tier, _ in result] == [Tier.EXACT, Tier.NEAR, Tier.FUZZY, Tier.ALTERNATIVE]
    assert {c.terms[0].options for _, c in result} == {(("stanford",), ("university",))}
    assert result[-1][1].terms[1].options == (("stanford", "stamford", "stafford"),)


def test_a_quoted_word_is_neither_widened_nor_looked_up_among_alternatives():
    [(tier, condition)] = tiers(parse('"stanford"'), VARIANTS)
    assert tier == Tier.EXACT and condition.terms == (Term(options=(("stanford",),)),)


def test_fts_query_restricts_columns_and_spells_out_phrase_variants():
    condition = Condition(
        groups=((Term(options=(("stanford", "stamford"), ("university",))),),
                (Term(options=(("photo",),), prefix=True, in_alternatives=True),)),
        excluded=(Term(options=(("draft",),)),))
    assert fts_query(condition) == (
        '((terms : ("stanford university" OR "stamford university")) AND '
        '((terms : ("photo"*) OR alternatives : "photo"*))) NOT terms : ("draft")')


def test_tsquery_weighs_words_a_and_alternatives_d():
    condition = Condition(
        groups=((Term(options=(("stanford", "stamford"), ("university",))),),
                (Term(options=(("photo",),), prefix=True, in_alternatives=True),)),
        excluded=(Term(options=(("draft",),)),))
    assert tsquery(condition) == (
        "((('stanford':A | 'stamford':A) <-> 'university':A)) & (('photo':*AD)) "
        "& !('draft':A)")


def test_trigram_threshold_is_met_by_every_word_within_the_edits():
    def similarity(a, b):
        grams = [{f"  {w} "[i:i + 3] for i in range(len(w) + 1)} for w in (a, b)]
        return len(grams[0] & grams[1]) / len(grams[0] | grams[1])

    pairs = [("there", "three"), ("there", "thexe"), ("stanford", "stamfort"),
             ("university", "univrsity"), ("little", "lirtle")]
    for word, other in pairs:
        edits = OSA.distance(word, other)
        assert similarity(word, other) >= trigram_threshold(len(word), edits), (word, other)
