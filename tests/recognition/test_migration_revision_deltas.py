"""Migration 0007: revisions stored as full snapshots become deltas between periodic snapshots,
and going back makes every revision a full snapshot again."""

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("recognition", "0006_job_lifecycle")]
AFTER = [("recognition", "0007_revision_deltas")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_history(transactional_db):
    """30 revisions of a two-page note as 0006 stored them: every line in each."""
    apps = migrate(BEFORE)
    user = apps.get_model(settings.AUTH_USER_MODEL).objects.create(username="carol")
    Collection = apps.get_model("recognition", "Collection")
    Note = apps.get_model("recognition", "Note")
    Revision = apps.get_model("recognition", "Revision")
    note = Note.objects.create(owner=user, collection=Collection.objects.create(
        owner=user, name="Old"), title="Old note", kind="image", content_type="image/jpeg",
        size=1, sha256="0", original="o.jpg", status="done", revision=30)
    lines = [{"id": 1, "page": 1, "text": "first", "polygon": [[0, 0]], "corrected": False},
             {"id": 2, "page": 1, "text": "second", "polygon": [[0, 9]], "corrected": False,
              "baseline": [[0, 8]], "read": True},
             {"id": 3, "page": 2, "text": "other page", "polygon": [], "corrected": False}]
    history = {}
    for number in range(1, 31):
        if number == 5:  # a line removed
            lines = [line for line in lines if line["id"] != 3]
        elif number == 9:  # a line typed in above the others: every line of page 1 moves
            lines = [{"id": 4, "page": 1, "text": "typed", "polygon": [], "corrected": True},
                     *lines]
        else:
            lines = [dict(line) for line in lines]
            lines[0]["text"] = f"edit {number}"
        history[number] = lines
        Revision.objects.create(note=note, number=number, kind="edit", lines=lines)
    yield note.pk, history
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def texts(lines):
    return [(line["id"], line["page"], line["text"]) for line in lines]


def test_old_snapshots_become_deltas_and_come_back(old_history):
    note_id, history = old_history
    apps = migrate(AFTER)
    Revision = apps.get_model("recognition", "Revision")
    rows = {r.number: r for r in Revision.objects.filter(note_id=note_id)}
    # The first; 9, whose delta would hold every line; then 20 revisions after it.
    assert sorted(n for n, r in rows.items() if r.snapshot is not None) == [1, 9, 29]
    assert rows[2].delta == {"removed": [], "changed": [
        {"id": 1, "page": 1, "order": 0, "text": "edit 2", "polygon": [[0, 0]],
         "corrected": False, "baseline": [], "read": True}]}
    assert rows[5].delta["removed"] == [3]

    from recognition.models import Note
    from recognition.selectors import revision_lines

    note = Note.objects.get(pk=note_id)
    for number, lines in history.items():
        assert texts(revision_lines(note=note, number=number)) == texts(lines), number

    apps = migrate(BEFORE)
    Revision = apps.get_model("recognition", "Revision")
    back = {r.number: r.lines for r in Revision.objects.filter(note_id=note_id)}
    assert {n: texts(lines) for n, lines in back.items()} == {
        n: texts(lines) for n, lines in history.items()}
    assert "order" not in back[2][0]
