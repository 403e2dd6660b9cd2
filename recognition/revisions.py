"""Edits of a note's text, its revision history and reverts.

Every change of a note's lines goes through `revision_record`, which numbers it, stores what
changed (a delta against the revision before, or every `SNAPSHOT_EVERY` revisions a snapshot of
every line), refreshes the note's text and tells the search index. Saves carry the revision the
editor started from: if someone else changed the same lines since, the save is refused with a
`RevisionConflict` holding the current state, never applied over it (optimistic concurrency).
Every edit is held to `settings.NOTES_MAX_LINE_CHARS` characters a line, whichever page sent it.

Structural corrections (`line_delete`, `_insert`, `_split`, `_merge`, `_move`, `_region_set`)
are one revision each, refused with a conflict when the page's lines (which, in what order)
differ from those at `base_revision` or a line they change was edited since. Lines they make or
change are `corrected`: a later recognition keeps them, in their order, and drops new lines
they cover (`runs._page_store_lines`). A deleted machine line is not remembered: recognizing
again re-reads the page and may find it again; a line moved against the page's geometry goes
back to its place by the geometry.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max

from recognition import regions, selectors
from recognition.exceptions import RecognitionAppError
from recognition.models import Line, Note, Page, Revision, document_text
from recognition.personal.services import personal_model_check_after_edit
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
ERROR_UNKNOWN_PAGE = "Page {number} is not part of this note."
ERROR_AFTER = "Line {line_id} is not on page {page} of this note."
ERROR_INSERT_EMPTY = "Type the text of the line to add."
ERROR_SPLIT_AT = ("Line {where} has {length:,} characters: split it at a place from 1 to "
                  "{last:,} that leaves text on both sides.")
ERROR_NOT_ADJACENT = "Only lines next to each other on one page can be merged."
ERROR_MOVE_TO = "Page {page} has {count} lines: move a line to a place from 0 to {last}."

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


class EditInvalid(RecognitionAppError):
    """A structural correction that cannot be made; `field` names the input at fault."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


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
    if kind != Revision.Kind.MACHINE:  # a person's lines: maybe time to learn from them
        transaction.on_commit(lambda: personal_model_check_after_edit(note.owner_id))
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
        elif _line_restore(line, entry, order):
            changed.append(line.pk)
    return revision_record(note=note, kind=Revision.Kind.REVERT, author=user,
                           summary=f"Reverted to revision {number}", changed=changed)


def _line_restore(line: Line, entry: dict, order: int) -> bool:
    """Make a line as a revision has it, region included; whether its text or region changed."""
    wanted = {"text": entry["text"], "order": order, "corrected": entry["corrected"],
              "polygon": entry.get("polygon", line.polygon),
              "baseline": entry.get("baseline", line.baseline),
              "read": entry.get("read", line.read)}
    if all(getattr(line, field) == value for field, value in wanted.items()):
        return False
    changed = (line.text, line.polygon) != (wanted["text"], wanted["polygon"])
    for field, value in wanted.items():
        setattr(line, field, value)
    line.save(update_fields=list(wanted))
    return changed


# Structural corrections ------------------------------------------------------------------------


def _page_of(note: Note, line: Line) -> Page:
    if line.page.note_id != note.pk:
        raise RecognitionAppError(ERROR_UNKNOWN_LINE.format(line_id=line.pk))
    return line.page


def _page_checked(user, note: Note, page: Page, base_revision: int,
                  involved: list[int]) -> tuple[Note, list[Line]]:
    """Lock the note; the page's lines in reading order, unless the page had other lines (or
    another order) at `base_revision` or a line in `involved` changed after it: a conflict, as
    a split or a move on an out-of-date page would hit the wrong line."""
    note = _locked(user, note)
    lines = list(page.lines.select_related("page").order_by("order", "pk"))
    ids = [line.pk for line in lines]
    stale = any(pk not in ids or lines[ids.index(pk)].revision > base_revision
                for pk in involved)
    if not stale and note.revision != base_revision:
        seen = [entry["id"] for entry in selectors.revision_lines(note=note, number=base_revision)
                if entry["page"] == page.number]
        stale = seen != ids
    if stale:
        raise _page_conflict(note, base_revision, lines)
    return note, lines


def _page_conflict(note: Note, base_revision: int, lines: list[Line]) -> RevisionConflict:
    return RevisionConflict(base=base_revision, current=note.revision,
                            lines={line.pk: line.text for line in lines})


def _orders_save(lines: list[Line]) -> None:
    """Number the page's lines 0, 1, ... in the order given."""
    for order, line in enumerate(lines):
        if line.order != order:
            line.order = order
            line.save(update_fields=["order"])


def _edit_record(note: Note, user, summary: str, changed: list[int]) -> Revision:
    return revision_record(note=note, kind=Revision.Kind.EDIT, author=user, summary=summary,
                           changed=changed)


@transaction.atomic
def line_delete(*, user, note: Note, line: Line, base_revision: int) -> Revision:
    """Delete a line (dust read as text, say); the page's other lines close up."""
    page = _page_of(note, line)
    note, lines = _page_checked(user, note, page, base_revision, [line.pk])
    index = [item.pk for item in lines].index(line.pk)
    lines.pop(index).delete()
    _orders_save(lines)
    return _edit_record(note, user, f"Deleted line {_where(note, page.number, index)}",
                        [line.pk])


@transaction.atomic
def line_insert(*, user, note: Note, page: Page, after: Line | None, text: str,
                polygon: list | tuple = (), base_revision: int) -> Revision:
    """Add a line typed in after `after` (None: first on the page), with a region or none."""
    if page.note_id != note.pk:
        raise RecognitionAppError(ERROR_UNKNOWN_PAGE.format(number=page.number))
    if after is not None and after.page_id != page.pk:
        raise EditInvalid(ERROR_AFTER.format(line_id=after.pk, page=page.number), "after")
    note, lines = _page_checked(user, note, page, base_revision, [])
    ids = [item.pk for item in lines]
    if after is not None and after.pk not in ids:  # deleted just now
        raise _page_conflict(note, base_revision, lines)
    index = 0 if after is None else ids.index(after.pk) + 1
    text = _clean(text)
    if not text:
        raise EditInvalid(ERROR_INSERT_EMPTY, "text")
    _check_length(note, page.number, index, text)
    line = Line.objects.create(page=page, order=index, text=text, corrected=True,
                               confidence=1.0, polygon=regions.polygon_check(
                                   polygon, width=page.width, height=page.height)
                               if polygon else [])
    lines.insert(index, line)
    _orders_save(lines)
    return _edit_record(note, user, f"Added line {_where(note, page.number, index)}",
                        [line.pk])


@transaction.atomic
def line_split(*, user, note: Note, line: Line, at: int, base_revision: int) -> Revision:
    """Split a line before character `at`, its region across the baseline in proportion to
    the text; the recognizer's words are dropped (both halves are a person's now)."""
    page = _page_of(note, line)
    note, lines = _page_checked(user, note, page, base_revision, [line.pk])
    index = [item.pk for item in lines].index(line.pk)
    line = lines[index]
    first, second = _clean(line.text[:at]), _clean(line.text[at:])
    if not 0 < at < len(line.text) or not first or not second:
        raise EditInvalid(ERROR_SPLIT_AT.format(where=_where(note, page.number, index),
                                                length=len(line.text),
                                                last=max(len(line.text) - 1, 0)), "at")
    (polygon, baseline), (polygon_after, baseline_after) = regions.region_split(
        line.polygon, line.baseline, at / len(line.text))
    new = Line.objects.create(page=page, order=index + 1, block=line.block,
                              polygon=polygon_after, baseline=baseline_after, text=second,
                              confidence=line.confidence, corrected=True)
    line.text, line.polygon, line.baseline, line.words, line.corrected = (
        first, polygon, baseline, [], True)
    line.save(update_fields=["text", "polygon", "baseline", "words", "corrected"])
    lines.insert(index + 1, new)
    _orders_save(lines)
    return _edit_record(note, user, f"Split line {_where(note, page.number, index)}",
                        [line.pk, new.pk])


@transaction.atomic
def line_merge(*, user, note: Note, line: Line, with_line: Line,
               base_revision: int) -> Revision:
    """Join two lines next to each other in reading order: the earlier one keeps its id and
    takes both texts (joined with a space) and the hull of both regions; the later one goes."""
    page = _page_of(note, line)
    if _page_of(note, with_line).pk != page.pk:
        raise EditInvalid(ERROR_NOT_ADJACENT, "with")
    note, lines = _page_checked(user, note, page, base_revision, [line.pk, with_line.pk])
    ids = [item.pk for item in lines]
    if abs(ids.index(line.pk) - ids.index(with_line.pk)) != 1:  # itself included
        raise EditInvalid(ERROR_NOT_ADJACENT, "with")
    index = min(ids.index(line.pk), ids.index(with_line.pk))
    first, second = lines[index], lines[index + 1]
    text = " ".join(t for t in (first.text, second.text) if t)
    _check_length(note, page.number, index, text)
    first.polygon, first.baseline = regions.regions_merge((first.polygon, first.baseline),
                                                          (second.polygon, second.baseline))
    first.text, first.words, first.corrected = text, [], True
    first.confidence, first.read = min(first.confidence, second.confidence), True
    first.save(update_fields=["text", "polygon", "baseline", "words", "corrected",
                              "confidence", "read"])
    lines.remove(second)
    second.delete()
    _orders_save(lines)
    of_page = f" of page {page.number}" if note.pages_total > 1 else ""
    return _edit_record(note, user, f"Merged lines {index + 1} and {index + 2}{of_page}",
                        [first.pk, second.pk])


@transaction.atomic
def line_move(*, user, note: Note, line: Line, to_index: int,
              base_revision: int) -> Revision | None:
    """Put a line at place `to_index` (0-based) of its page; None when it is there already.
    Recognizing the note again orders its lines as the recognizer reads them."""
    page = _page_of(note, line)
    note, lines = _page_checked(user, note, page, base_revision, [line.pk])
    if not 0 <= to_index < len(lines):
        raise EditInvalid(ERROR_MOVE_TO.format(page=page.number, count=len(lines),
                                               last=len(lines) - 1), "to")
    index = [item.pk for item in lines].index(line.pk)
    if index == to_index:
        return None
    lines.insert(to_index, lines.pop(index))
    _orders_save(lines)
    return _edit_record(note, user, f"Moved line {_where(note, page.number, index)} to "
                        f"place {to_index + 1}", [])


@transaction.atomic
def line_region_set(*, user, note: Note, line: Line, polygon,
                    base_revision: int) -> Revision | None:
    """Give a line a region drawn on its page image (checked, clamped to the image); None
    when it has that region already. A baseline left outside the new region is dropped."""
    page = _page_of(note, line)
    note, lines = _page_checked(user, note, page, base_revision, [line.pk])
    points = regions.polygon_check(polygon, width=page.width, height=page.height)
    index = [item.pk for item in lines].index(line.pk)
    line = lines[index]
    if points == line.polygon:
        return None
    x0, y0, x1, y1 = regions.box(points)
    if not all(x0 <= x <= x1 and y0 <= y <= y1 for x, y in line.baseline):
        line.baseline = []
    line.polygon, line.corrected = points, True
    line.save(update_fields=["polygon", "baseline", "corrected"])
    return _edit_record(note, user, "Adjusted the region of line "
                        f"{_where(note, page.number, index)}", [line.pk])
