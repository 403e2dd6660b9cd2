"""Revisions store what changed: a delta against the revision before, with a snapshot of every
line the first time and at least every SNAPSHOT_EVERY revisions (issue 13).

Existing revisions were all snapshots: snapshots are kept at that interval, the others become
deltas. Going back turns every revision into a snapshot again. The helpers are copies, not
imports of `recognition.revisions`: a migration must keep doing what it did when written.
"""

from django.db import migrations, models

SNAPSHOT_EVERY = 20  # recognition.revisions.SNAPSHOT_EVERY when this was written


def _normalized(lines: list[dict]) -> list[dict]:
    """Old snapshot entries as revisions now store them: with `order` (the place on the page),
    and with the keys that snapshots written before those columns existed lack."""
    places: dict[int, int] = {}
    entries = []
    for line in lines:
        order = places[line["page"]] = places.get(line["page"], -1) + 1
        entries.append({"baseline": [], "read": True, **line, "order": order})
    return entries


def _delta(old: list[dict], new: list[dict]) -> dict:
    before = {line["id"]: line for line in old}
    kept = {line["id"] for line in new}
    return {"changed": [line for line in new if before.get(line["id"]) != line],
            "removed": [line["id"] for line in old if line["id"] not in kept]}


def _applied(lines: list[dict], delta: dict) -> list[dict]:
    by_id = {line["id"]: line for line in lines}
    for line_id in delta["removed"]:
        by_id.pop(line_id, None)
    by_id.update((line["id"], line) for line in delta["changed"])
    return sorted(by_id.values(), key=lambda line: (line["page"], line["order"]))


def _notes(Revision):
    return Revision.objects.order_by().values_list("note_id", flat=True).distinct()


def to_deltas(apps, schema_editor):
    Revision = apps.get_model("recognition", "Revision")
    for note_id in list(_notes(Revision)):
        last_snapshot, previous, previous_number = None, [], None
        for revision in Revision.objects.filter(note_id=note_id).order_by("number").iterator():
            lines = _normalized(revision.snapshot or [])
            delta = _delta(previous, lines)
            if (last_snapshot is None or revision.number != previous_number + 1
                    or revision.number - last_snapshot >= SNAPSHOT_EVERY
                    or len(delta["changed"]) + len(delta["removed"]) >= len(lines)):
                Revision.objects.filter(pk=revision.pk).update(snapshot=lines, delta=None)
                last_snapshot = revision.number
            else:
                Revision.objects.filter(pk=revision.pk).update(snapshot=None, delta=delta)
            previous, previous_number = lines, revision.number


def to_snapshots(apps, schema_editor):
    Revision = apps.get_model("recognition", "Revision")
    for note_id in list(_notes(Revision)):
        lines: list[dict] = []
        for revision in Revision.objects.filter(note_id=note_id).order_by("number").iterator():
            lines = (revision.snapshot if revision.snapshot is not None
                     else _applied(lines, revision.delta))
            old_format = [{key: value for key, value in line.items() if key != "order"}
                          for line in lines]
            Revision.objects.filter(pk=revision.pk).update(snapshot=old_format, delta=None)


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0006_job_lifecycle"),
    ]

    operations = [
        migrations.RenameField(model_name="revision", old_name="lines", new_name="snapshot"),
        migrations.AlterField(
            model_name="revision",
            name="snapshot",
            field=models.JSONField(blank=True, help_text="Every line, in reading order.",
                                   null=True),
        ),
        migrations.AddField(
            model_name="revision",
            name="delta",
            field=models.JSONField(blank=True, help_text="The lines changed since the revision "
                                   "before, and the ids of those removed.", null=True),
        ),
        migrations.RunPython(to_deltas, to_snapshots, elidable=False),
        migrations.AddConstraint(
            model_name="revision",
            constraint=models.CheckConstraint(
                condition=(models.Q(snapshot__isnull=False, delta__isnull=True)
                           | models.Q(snapshot__isnull=True, delta__isnull=False)),
                name="revision_snapshot_or_delta"),
        ),
    ]
