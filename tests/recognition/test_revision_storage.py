"""How revisions are stored: deltas of the lines that changed, a snapshot of every line the first
time and every SNAPSHOT_EVERY revisions, and any revision's lines rebuilt from them."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recognition import revisions, selectors
from recognition.models import Line, Note, Page, Revision


def lines_of(note):
    return list(Line.objects.filter(page__note=note).select_related("page")
                .order_by("page__number", "order"))


def state(note) -> list[tuple]:
    """What a revision must give back, read from the lines themselves."""
    return [(line.pk, line.page.number, line.text, line.polygon, line.corrected, line.read)
            for line in lines_of(note)]


def rebuilt(lines: list[dict]) -> list[tuple]:
    return [(e["id"], e["page"], e["text"], e["polygon"], e["corrected"], e["read"])
            for e in lines]


def stored(note) -> dict[int, str]:
    """Revision number -> "snapshot" or "delta"."""
    return {number: "snapshot" if snapshot is not None else "delta" for number, snapshot in
            Revision.objects.filter(note=note).values_list("number", "snapshot")}


def test_a_line_save_stores_only_that_line(user, text_note):
    first, second, _ = lines_of(text_note)
    revisions.lines_update(user=user, note=text_note, edits={second.pk: "jumped"},
                           base_revision=1)
    revision = Revision.objects.get(note=text_note, number=2)
    assert revision.snapshot is None
    assert revision.delta == {"removed": [], "changed": [{
        "id": second.pk, "page": 1, "order": 1, "text": "jumped", "polygon": second.polygon,
        "baseline": [], "corrected": True, "read": True}]}


def test_the_first_revision_and_every_twentieth_are_snapshots(user, text_note):
    first = lines_of(text_note)[0]
    for number in range(2, 46):
        revisions.lines_update(user=user, note=text_note, edits={first.pk: f"edit {number}"},
                               base_revision=number - 1)
    kinds = stored(text_note)
    assert len(kinds) == 45
    assert [n for n, kind in sorted(kinds.items()) if kind == "snapshot"] == [1, 21, 41]


def test_a_change_of_every_line_is_stored_as_a_snapshot(user, text_note):
    revisions.pages_text_replace(user=user, note=text_note, base_revision=1,
                                 pages={1: "all new\nand different\nthree", 2: "four"})
    assert stored(text_note) == {1: "snapshot", 2: "snapshot"}


def test_every_revision_rebuilds_as_it_was(user, text_note, monkeypatch):
    """Edits, lines typed in, removed and reordered, and reverts, over several snapshots."""
    monkeypatch.setattr(revisions, "SNAPSHOT_EVERY", 3)
    expected = {1: state(text_note)}
    first, second, third = lines_of(text_note)

    def saved(revision):
        expected[revision.number] = state(text_note)

    saved(revisions.lines_update(user=user, note=text_note, edits={first.pk: "one"},
                                 base_revision=1))
    saved(revisions.pages_text_replace(user=user, note=text_note, base_revision=2, pages={
        1: "typed above\none\njumps over the lazy dog\ntyped below"}))
    saved(revisions.lines_update(user=user, note=text_note, edits={third.pk: "page two"},
                                 base_revision=3))
    saved(revisions.pages_text_replace(user=user, note=text_note, base_revision=4,
                                       pages={1: "one\ntyped below"}))  # two removed
    saved(revisions.revision_revert(user=user, note=text_note, number=3, base_revision=5))
    saved(revisions.revision_revert(user=user, note=text_note, number=1, base_revision=6))
    brought_back = lines_of(text_note)[1]  # a line removed, then brought back by the revert
    assert brought_back.pk != second.pk and brought_back.text == second.text
    saved(revisions.lines_update(user=user, note=text_note, edits={brought_back.pk: "last"},
                                 base_revision=7))

    assert set(stored(text_note).values()) == {"snapshot", "delta"}
    for number, lines in expected.items():
        assert rebuilt(selectors.revision_lines(note=text_note, number=number)) == lines
    attached = selectors.revision_lines_attach(revisions=Revision.objects.filter(
        note=text_note, number__in=[2, 5, 8]))
    assert {r.number: rebuilt(r.lines) for r in attached} == {
        n: expected[n] for n in (2, 5, 8)}
    def texts(lines):
        return [line[1:] for line in lines]

    assert texts(expected[7]) == texts(expected[1])  # the reverts
    assert texts(expected[6]) == texts(expected[3])


def test_lines_of_a_revision_the_note_lacks_are_none(text_note):
    assert selectors.revision_lines(note=text_note, number=0) == []
    assert selectors.revision_lines(note=text_note, number=7) == []


def test_history_pages_read_no_revision_lines(alice_client, user, text_note):
    first = lines_of(text_note)[0]
    revisions.lines_update(user=user, note=text_note, edits={first.pk: "x"}, base_revision=1)
    with CaptureQueriesContext(connection) as queries:
        response = alice_client.get(reverse("recognition:note-history", args=[text_note.pk]))
    assert response.status_code == 200 and "Line 1 of page 1 edited" in response.content.decode()
    revision_reads = [q["sql"] for q in queries if 'FROM "recognition_revision"' in q["sql"]]
    assert len(revision_reads) == 1
    assert '"snapshot"' not in revision_reads[0] and '"delta"' not in revision_reads[0]


def fifty_page_note(user, lines_a_page: int = 25) -> Note:
    """A recognized 50-page note of 1,250 lines, regions and baselines as the segmenter gives."""
    note = Note.objects.create(owner=user, collection=user.collections.create(name="Books"),
                               title="Thesis", kind="pdf", content_type="application/pdf",
                               size=1, sha256="0", original="notes/y/original.pdf",
                               status="done", pages_total=50, pages_done=50)
    for number in range(1, 51):
        page = Page.objects.create(note=note, number=number, image=f"p{number}.jpg",
                                   width=2480, height=3508, recognized=True)
        Line.objects.bulk_create(
            Line(page=page, order=order, text=f"page {number} line {order}: some handwriting",
                 polygon=[[120, 300 + 80 * order], [2310, 304 + 80 * order],
                          [2310, 370 + 80 * order], [120, 366 + 80 * order]],
                 baseline=[[120, 355 + 80 * order], [2310, 359 + 80 * order]])
            for order in range(lines_a_page))
    revisions.revision_record(note=note, kind=Revision.Kind.MACHINE, summary="Recognized")
    return note


def test_twenty_line_saves_on_a_fifty_page_note_store_a_fraction(user):
    note = fifty_page_note(user)
    lines = lines_of(note)
    for step in range(20):
        revisions.lines_update(user=user, note=note, edits={lines[step * 61].pk: f"edit {step}"},
                               base_revision=step + 1)
    saves = Revision.objects.filter(note=note, number__gt=1)
    bytes_stored = sum(len(json.dumps(r.snapshot if r.snapshot is not None else r.delta))
                       for r in saves)
    # What the same 20 saves took when each stored a snapshot of every line.
    as_snapshots = sum(len(json.dumps(selectors.revision_lines(note=note, number=r.number)))
                       for r in saves)
    snapshot = len(json.dumps(Revision.objects.get(note=note, number=1).snapshot))
    print(f"\n20 saves: {bytes_stored:,} bytes stored; {as_snapshots:,} as snapshots; "
          f"one snapshot {snapshot:,}")
    assert snapshot > 200_000  # the note is as big as the issue's
    assert stored(note)[21] == "snapshot"  # the periodic one
    assert bytes_stored < snapshot + 19 * 1_000  # it and 19 deltas of a line each
    assert rebuilt(selectors.revision_lines(note=note, number=21)) == state(note)


@pytest.mark.parametrize("page", ["note-history", "revision"])
def test_revision_pages_of_another_user_are_404(bob_client, text_note, page):
    args = [text_note.pk] if page == "note-history" else [text_note.pk, 1]
    assert bob_client.get(reverse(f"recognition:{page}", args=args)).status_code == 404
