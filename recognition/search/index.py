"""Keeping the search index in step with the notes: a note's entries are rebuilt whole.

A note's lines change together (a recognition run, an edit, a revert, an import), after which
`note_text_changed` is sent; re-reading a note's few hundred lines is cheaper than working out
what changed, and cannot drift. The vocabulary (`SearchWord`) counts, per user, the lines each
word occurs in; a rebuild applies the difference between the note's old and new words.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence

from django.db import connection, transaction

from recognition.models import Line, Note, SearchLine, SearchVocabulary, SearchWord
from recognition.search import text

BATCH = 500


def line_terms(*, line_text: str, machine_text: str, words: Sequence[dict],
               corrected: bool) -> tuple[str, str]:
    """The index columns of a line: its words, and the other readings of its words.

    Alternative readings belong to the machine's reading: once a person has corrected the
    line, they describe text that is no longer there.
    """
    terms = text.words(line_text)
    alternatives: list[str] = []
    if not corrected and line_text == machine_text:
        seen = set(terms)
        for word in words:
            for alternative in word.get("alternatives", ()):
                for reading in text.words(alternative.get("text", "")):
                    if reading not in seen:
                        seen.add(reading)
                        alternatives.append(reading)
    return " ".join(terms), " ".join(alternatives)


def line_vocabulary(entries: Iterable[str]) -> Counter[str]:
    """How many of these lines (their `terms`) each vocabulary word occurs in."""
    counts: Counter[str] = Counter()
    for terms in entries:
        counts.update(text.vocabulary_words(terms.split()))
    return counts


@transaction.atomic
def note_index(*, note_id: int) -> int:
    """Rebuild a note's index entries from its lines; returns how many lines were indexed
    (lines without a word have no entry)."""
    # The lock orders concurrent rebuilds of one note (an edit committed while a recognition
    # run finishes): each sees the entries the previous one wrote.
    owner_id = (Note.objects.select_for_update().filter(pk=note_id)
                .values_list("owner_id", flat=True).first())
    if owner_id is None:  # deleted since the change
        note_unindex(note_id=note_id)
        return 0
    old = SearchLine.objects.filter(note_id=note_id)
    before = line_vocabulary(old.values_list("terms", flat=True))
    old.delete()
    entries = []
    for pk, line_text, machine_text, words, corrected in Line.objects.filter(
            page__note_id=note_id).values_list("pk", "text", "machine_text", "words",
                                               "corrected"):
        terms, alternatives = line_terms(line_text=line_text, machine_text=machine_text,
                                         words=words or (), corrected=corrected)
        if not terms and not alternatives:  # no words (a line located but not read): no entry
            continue
        entries.append(SearchLine(line_id=pk, note_id=note_id, owner_id=owner_id, terms=terms,
                                  alternatives=alternatives))
    SearchLine.objects.bulk_create(entries, batch_size=BATCH)
    change = line_vocabulary(entry.terms for entry in entries)
    change.subtract(before)
    vocabulary_update(owner_id=owner_id, change=change)
    return len(entries)


@transaction.atomic
def note_unindex(*, note_id: int) -> None:
    """Remove a deleted note's entries and take its words out of the vocabulary."""
    old = SearchLine.objects.filter(note_id=note_id)
    owner_id = old.values_list("owner_id", flat=True).first()
    if owner_id is None:
        return
    gone = line_vocabulary(old.values_list("terms", flat=True))
    old.delete()
    vocabulary_update(owner_id=owner_id, change=Counter({w: -n for w, n in gone.items()}))


def vocabulary_update(*, owner_id: int, change: Counter[str]) -> None:
    """Add `change` ({word: lines, possibly negative}) to the user's word counts, and give the
    vocabulary a new stamp.

    One upsert adds to existing counts atomically, so concurrent rebuilds of two notes with
    words in common both count; words sorted, so their row locks are taken in one order.
    """
    change = {word: n for word, n in change.items() if n}
    table = connection.ops.quote_name(SearchWord._meta.db_table)
    words = sorted(change)
    for start in range(0, len(words), BATCH):
        batch = words[start:start + BATCH]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (owner_id, word, length, lines) VALUES "
                + ", ".join(["(%s, %s, %s, %s)"] * len(batch))
                + f" ON CONFLICT (owner_id, word) DO UPDATE SET lines = {table}.lines"
                " + excluded.lines",
                [value for word in batch for value in (owner_id, word, len(word), change[word])])
    emptied = [word for word, n in change.items() if n < 0]
    for start in range(0, len(emptied), BATCH):
        SearchWord.objects.filter(owner_id=owner_id, word__in=emptied[start:start + BATCH],
                                  lines__lte=0).delete()
    if change:
        SearchVocabulary.objects.bulk_create(
            [SearchVocabulary(owner_id=owner_id, stamp=uuid.uuid4())],
            update_conflicts=True, unique_fields=["owner"], update_fields=["stamp"])
