"""Edits of a note's text, its revision history and reverts.

Every change of a note's lines goes through `revision_record`, which numbers it, stores what
changed (a delta against the revision before, or every `SNAPSHOT_EVERY` revisions a snapshot of
every line), refreshes the note's text and tells the search index. Saves carry the revision the
editor started from: if someone else changed the same lines since, the save is refused with a
`RevisionConflict` holding the current state, never applied over it (optimistic concurrency).
Every edit is held to `settings.NOTES_MAX_LINE_CHARS` characters a line, whichever page sent it.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max

from recognition import selectors
from recognition.exceptions import RecognitionAppError
from recognition.models import Line, Note, Page, Revision, document_text
from recognition.signals import note_text_changed

ERROR_CONFLICT = (
    "This note was changed (revision {current}) after you opened it (revision {base}). "
    "Your text is kept below beside the current one: merge them and save again."
)
ERROR_UNKNOWN_LINE = "Line {line_id} is not part of this note."
ERROR_UNKNOWN_REVISION = "This note has no revision {number}."
ERROR_BUSY = "The note is being recognized; edit it when recognition has finished."
ERROR_LINE_TOO_LONG = ("Line {where} is {length:,} characters long; a line may have at most "
                       "{limit:,}.")

# A revision stores every line at least this often (and whenever a delta would be as big): any
# revision is then its snapshot plus at most SNAPSHOT_EVERY - 1 deltas to replay.
SNAPSHOT_EVERY = 20


class RevisionConflict(RecognitionAppError):
    """A save based on a revision older than the lines it changes."""

    def __init__(self, *, base: int, current: int, lines: Mapping[int, str] | None = None):
        super().__init__(ERROR_CONFLICT.format(base=base, current=current))
        self.base = base
        self.current = current
        self.lines = dict(lines or {})  # line id -> its current text, for the merge


class LineTooLong(RecognitionAppError):
    """An edited line is longer than `settings.NOTES_MAX_LINE_CHARS`."""

    field = "text"


def _locked(user, note: Note) -> Note:
    if note.owner_id != user.id:
        raise PermissionDenied
    locked = Note.objects.select_for_update().get(pk=note.pk)
    if locked.is_active:
        raise RecognitionAppError(ERROR_BUSY)
    return locked


def _note_lines(note: Note) -> list[Line]:
    return list(Line.objects.filter(page__note=note).select_related("page")
                .order_by("page__number", "order"))


def _entries(lines: list[Line]) -> list[dict]:
    """Lines (in reading order) as revisions store them; `order` is the place on the page."""
    places: dict[int, int] = {}
    entries = []
    for line in lines:
        order = places[line.page_id] = places.get(line.page_id, -1) + 1
        entries.append({"id": line.pk, "page": line.page.number, "order": order,
                        "text": line.text, "polygon": line.polygon, "baseline": line.baseline,
                        "corrected": line.corrected, "read": line.read})
    return entries


def line_delta(old: list[dict], new: list[dict]) -> dict:
    """What turns lines `old` into `new`: the lines added or changed, the ids of those removed."""
    before = {line["id"]: line for line in old}
    kept = {line["id"] for line in new}
    return {"changed": [line for line in new if before.get(line["id"]) != line],
            "removed": [line["id"] for line in old if line["id"] not in kept]}


def _storage(note: Note, number: int, lines: list[dict]) -> dict:
    """The columns revision `number` stores `lines` in: a snapshot, or a delta."""
    last = Revision.objects.filter(note=note, snapshot__isnull=False).aggregate(
        last=Max("number"))["last"]
    if last is None or number - last >= SNAPSHOT_EVERY:
        return {"snapshot": lines}
    delta = line_delta(selectors.revision_lines(note=note, number=number - 1), lines)
    if len(delta["changed"]) + len(delta["removed"]) >= len(lines):
        return {"snapshot": lines}  # no smaller than a snapshot (a new recognition, say)
    return {"delta": delta}


def revision_record(*, note: Note, kind: str, author=None, summary: str = "",
                    changed: list[int] | None = None) -> Revision:
    """Number the note's current lines as a revision; call it inside the changing transaction.

    `changed` lists the lines this revision changed (None: all of them); what is stored is
    worked out from the lines themselves, order and regions included.
    """
    number = Note.objects.select_for_update().values_list("revision", flat=True).get(
        pk=note.pk) + 1
    lines = Line.objects.filter(page__note=note)
    (lines if changed is None else lines.filter(pk__in=changed)).update(revision=number)
    entries = _entries(_note_lines(note))
    text = document_text(entries)
    Note.objects.filter(pk=note.pk).update(revision=number, text=text)
    note.revision, note.text = number, text
    revision = Revision.objects.create(note=note, number=number, kind=kind, author=author,
                                       summary=summary[:200], **_storage(note, number, entries))
    revision.lines = entries
    transaction.on_commit(lambda: note_text_changed.send(sender=Note, note_id=note.pk))
    return revision


def _clean(text: str) -> str:
    """One line of text: no line breaks or control characters, outer spaces trimmed."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _check_length(note: Note, page: int, index: int, text: str) -> None:
    """Refuse line `index` (0-based) of page `page` if it is over the length limit."""
    limit = settings.NOTES_MAX_LINE_CHARS
    if len(text) > limit:
        raise LineTooLong(ERROR_LINE_TOO_LONG.format(
            where=_where(note, page, index), length=len(text), limit=limit))


@transaction.atomic
def lines_update(*, user, note: Note, edits: Mapping[int, str],
                 base_revision: int) -> Revision | None:
    """Save a person's edits of some lines ({line id: text}); None when nothing changed.

    Refused with RevisionConflict when one of the edited lines changed after `base_revision`
    (edits of other lines in the meantime are fine: they do not collide).
    """
    note = _locked(user, note)
    lines = {line.pk: line for line in Line.objects.filter(page__note=note, pk__in=edits)
             .select_related("page")}
    for line_id in edits:
        if line_id not in lines:
            raise RecognitionAppError(ERROR_UNKNOWN_LINE.format(line_id=line_id))
    edits = {pk: _clean(text) for pk, text in edits.items()}
    for pk, text in edits.items():
        _check_length(note, lines[pk].page.number, lines[pk].order, text)
    changed = [line for pk, line in lines.items() if line.text != edits[pk]]
    stale = {line.pk: line.text for line in changed if line.revision > base_revision}
    if stale:
        raise RevisionConflict(base=base_revision, current=note.revision, lines=stale)
    if not changed:
        return None
    for line in changed:
        line.text, line.corrected = edits[line.pk], True
        line.save(update_fields=["text", "corrected"])
    summary = (f"Line {_position(note, changed[0])} edited" if len(changed) == 1
               else f"{len(changed)} lines edited")
    return revision_record(note=note, kind=Revision.Kind.EDIT, author=user, summary=summary,
                           changed=[line.pk for line in changed])


def _position(note: Note, line: Line) -> str:
    return _where(note, line.page.number, line.order)


def _where(note: Note, page: int, index: int) -> str:
    """Line `index` (0-based) of page `page` as people count: "3 of page 2", or "3"."""
    if note.pages_total > 1:
        return f"{index + 1} of page {page}"
    return str(index + 1)


@transaction.atomic
def pages_text_replace(*, user, note: Note, pages: Mapping[int, str],
                       base_revision: int) -> Revision | None:
    """Save a person's edit of whole pages of text ({page number: text}).

    Lines are matched to the page's existing lines in order (difflib), so an edited line keeps
    its region; a line typed in has no region, a line removed is deleted. Refused when the note
    changed after `base_revision` at all (a whole-text edit touches everything).
    """
    note = _locked(user, note)
    if note.revision != base_revision:
        raise RevisionConflict(base=base_revision, current=note.revision,
                               lines={line.pk: line.text for line in _note_lines(note)})
    texts: dict[Page, list[str]] = {}
    for page in Page.objects.filter(note=note, number__in=pages):
        # Blank lines are kept for the matching: a line located but not read is shown blank.
        text = pages[page.number].replace("\r\n", "\n").replace("\r", "\n")
        texts[page] = [_clean(t) for t in text.split("\n")]
        for index, line in enumerate(texts[page]):  # all checked before the first write
            _check_length(note, page.number, index, line)
    changed: list[int] = []
    for page, new in texts.items():
        changed += _page_lines_replace(page, list(page.lines.order_by("order")), new)
    if not changed:
        return None
    return revision_record(note=note, kind=Revision.Kind.EDIT, author=user,
                           summary=f"Text edited ({len(changed)} lines changed)",
                           changed=changed)


def _page_lines_replace(page: Page, old: list[Line], new: list[str]) -> list[int]:
    """Make the page's lines read `new`; returns the ids of lines changed or created.

    Blank lines of `new` never make a line nor empty one; they only keep the page's blank
    lines (located but not read) in their places, so that text typed on one of them fills
    that line and keeps its region.
    """
    matcher = difflib.SequenceMatcher(isjunk=lambda text: not text,
                                      a=[line.text for line in old], b=new, autojunk=False)
    result: list[Line] = []
    changed: list[int] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            result += old[i1:i2]
            continue
        kept, texts = old[i1:i2], new[j1:j2]
        if all(line.text for line in kept):  # no blank line here to keep: blanks are nothing
            texts = [text for text in texts if text]
        for line, text in zip(kept, texts, strict=False):  # replaced: keep the regions
            if not text:
                if line.text:  # a line emptied: removed
                    line.delete()
                    changed.append(line.pk)
                else:  # still blank: stays as it is
                    result.append(line)
                continue
            line.text, line.corrected = text, True
            line.save(update_fields=["text", "corrected"])
            result.append(line)
            changed.append(line.pk)
        for line in kept[len(texts):]:
            line.delete()
            changed.append(line.pk)
        for text in texts[len(kept):]:  # typed in: no region on the image
            if not text:
                continue
            line = Line.objects.create(page=page, order=0, polygon=[], text=text,
                                       corrected=True)
            result.append(line)
            changed.append(line.pk)
    for order, line in enumerate(result):
        if line.order != order:
            line.order = order
            line.save(update_fields=["order"])
    return changed


@transaction.atomic
def revision_revert(*, user, note: Note, number: int, base_revision: int) -> Revision:
    """Make the note read as it did at revision `number`, as a new revision."""
    note = _locked(user, note)
    if note.revision != base_revision:
        raise RevisionConflict(base=base_revision, current=note.revision)
    if not Revision.objects.filter(note=note, number=number).exists():
        raise RecognitionAppError(ERROR_UNKNOWN_REVISION.format(number=number))
    current = {line.pk: line for line in _note_lines(note)}
    pages = {page.number: page for page in note.pages.all()}
    wanted = [entry for entry in selectors.revision_lines(note=note, number=number)
              if entry["page"] in pages]
    keep = {entry["id"] for entry in wanted}
    Line.objects.filter(pk__in=set(current) - keep).delete()
    order_by_page: dict[int, int] = {}
    changed = list(set(current) - keep)
    for entry in wanted:
        order = order_by_page.get(entry["page"], 0)
        order_by_page[entry["page"]] = order + 1
        line = current.get(entry["id"])
        if line is None:  # deleted since: bring it back with its region
            line = Line.objects.create(
                page=pages[entry["page"]], order=order, polygon=entry["polygon"],
                baseline=entry.get("baseline", []), text=entry["text"],
                corrected=entry["corrected"], read=entry.get("read", True))
            changed.append(line.pk)
        elif (line.text, line.order, line.corrected) != (entry["text"], order,
                                                          entry["corrected"]):
            if line.text != entry["text"]:
                changed.append(line.pk)
            line.text, line.order, line.corrected = entry["text"], order, entry["corrected"]
            line.save(update_fields=["text", "order", "corrected"])
    return revision_record(note=note, kind=Revision.Kind.REVERT, author=user,
                           summary=f"Reverted to revision {number}", changed=changed)
