"""Collections of notes, their pages and recognized lines, and the recognition jobs."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Collection(models.Model):
    """A notebook: a named group of a user's notes."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="collections")
    name = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_collection_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="tags")
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="unique_tag_name")]

    def __str__(self) -> str:
        return self.name


class SavedSearch(models.Model):
    """A named set of library filters: the query string of the notes list (issue 14)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="saved_searches")
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=1000, blank=True,
                             help_text="The filters as a query string: status=done&sort=title.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_saved_search_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Note(models.Model):
    """One upload (a photo or a PDF) and the text recognized in it."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        PROCESSING = "processing"
        DONE = "done"
        FAILED = "failed"

    class Kind(models.TextChoices):
        IMAGE = "image"
        PDF = "pdf"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="notes")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="notes")
    title = models.CharField(max_length=200)
    note_date = models.DateField(null=True, blank=True, help_text="When the note was written.")
    tags = models.ManyToManyField(Tag, blank=True, related_name="notes")
    # Where files go: notes/<storage_key>/..., a random key, never the user's file name.
    storage_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    original = models.FileField(max_length=300)
    original_name = models.CharField(max_length=200, help_text="Sanitized name as uploaded.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    thumbnail = models.ImageField(max_length=300, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    pages_done = models.PositiveIntegerField(default=0)
    pages_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    text = models.TextField(blank=True, help_text="The whole document text, page by page.")
    # Bumped by every change of the text (recognition, edit, revert, import): a save based on
    # an older number is refused (optimistic concurrency). Revision rows keep the history.
    revision = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["owner", "-created"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.PROCESSING)

    @property
    def progress_percent(self) -> int:
        if not self.pages_total:
            return 0
        return round(100 * self.pages_done / self.pages_total)


class Page(models.Model):
    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="pages")
    number = models.PositiveIntegerField()  # 1-based
    image = models.ImageField(max_length=300)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    skew = models.FloatField(default=0.0)
    recognized = models.BooleanField(default=False)
    # The last recognition ran out of time on this page (NOTES_PAGE_SECONDS): `unread_lines`
    # of its lines were located but not read (stored with empty text, for a person to type).
    partial = models.BooleanField(default=False, help_text="Only partly read.")
    unread_lines = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["note", "number"], name="unique_page_number"),
        ]

    def __str__(self) -> str:
        return f"{self.note} p.{self.number}"


class Line(models.Model):
    """A text line of a page: its region on the page image and its text."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="lines")
    order = models.PositiveIntegerField()  # reading order within the page
    block = models.PositiveIntegerField(default=0)
    polygon = models.JSONField()  # [[x, y], ...] page image pixels
    baseline = models.JSONField(default=list)
    text = models.TextField(blank=True)
    machine_text = models.TextField(blank=True)
    confidence = models.FloatField(default=0.0)
    # Per word: {"text", "confidence", "alternatives": [{"text", "probability"}]}
    words = models.JSONField(default=list)
    corrected = models.BooleanField(default=False, help_text="A person edited this line.")
    # False: the recognizer located the line but ran out of time before reading it.
    read = models.BooleanField(default=True, help_text="The recognizer read this line.")
    # The note revision that last changed this line: an edit based on an older one conflicts.
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["page", "order"]
        indexes = [models.Index(fields=["page", "order"])]

    def __str__(self) -> str:
        return self.text[:60]


class RecognitionJob(models.Model):
    """One run of recognition over a note (the first, and every retry or re-run)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    class ModelRequest(models.TextChoices):
        """Which model the run was asked to read with (staff choose one in the review panel)."""

        OWNER = "owner", "The owner's model"  # whatever reads their notes when the run starts
        STANDARD = "standard", "The standard model"
        PERSONAL = "personal", "A personal model"

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="jobs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    model_request = models.CharField(max_length=10, choices=ModelRequest.choices,
                                     default=ModelRequest.OWNER)
    # With PERSONAL: the version asked for, one of the note owner's promoted ones. Kept apart
    # from `model_request` so that a deleted version leaves "personal" without a model, which
    # fails the run readably instead of quietly reading with another model.
    requested_model = models.ForeignKey("PersonalModel", null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    # What did read it (set when the run starts): "crnn.pt 2026-…" or "personal #3 (from …)".
    model_version = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    # Written when a run starts and after every page: a running job whose heartbeat is older
    # than NOTES_JOB_STALL_SECONDS lost its worker (see runs.job_expire_stale).
    heartbeat = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    class Meta:
        ordering = ["-created"]
        constraints = [
            # One run per note at a time: a second queued or running job cannot be created.
            models.UniqueConstraint(fields=["note"], condition=models.Q(status__in=["queued",
                                                                                 "running"]),
                                    name="one_active_job_per_note"),
            models.CheckConstraint(
                condition=models.Q(model_request="personal")
                | models.Q(requested_model__isnull=True),
                name="requested_model_only_when_personal"),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} for note {self.note_id}: {self.status}"


class Revision(models.Model):
    """A saved state of a note's text: who or what changed it, when, and how its lines changed.

    Most revisions store only a delta against the revision before (`delta`: {"changed": [line,
    ...], "removed": [line id, ...]}, a line added counting as changed); the first, and then at
    least every `revisions.SNAPSHOT_EVERY`-th, store every line (`snapshot`), so that any
    revision's lines are its nearest snapshot plus at most that many deltas (see
    `selectors.revision_lines`). A line is {"id", "page", "order", "text", "polygon",
    "baseline", "corrected", "read"}, `order` being its place on its page. A single-line save
    of a 50-page note stores a few hundred bytes instead of the whole note (issue 13).
    """

    class Kind(models.TextChoices):
        MACHINE = "machine", "Recognition"
        EDIT = "edit", "Edit"
        REVERT = "revert", "Revert"
        IMPORT = "import", "Import"

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+",
                               help_text="Empty for the recognizer.")
    summary = models.CharField(max_length=200, blank=True)
    snapshot = models.JSONField(null=True, blank=True, help_text="Every line, in reading order.")
    delta = models.JSONField(null=True, blank=True, help_text="The lines changed since the "
                             "revision before, and the ids of those removed.")
    created = models.DateTimeField(auto_now_add=True)

    # Not a column: every line as it was, reconstructed by `selectors.revision_lines_attach`
    # (or set by `revisions.revision_record`); `text` reads it.
    lines: list[dict]

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["note", "number"], name="unique_revision_number"),
            models.CheckConstraint(
                condition=(models.Q(snapshot__isnull=False, delta__isnull=True)
                           | models.Q(snapshot__isnull=True, delta__isnull=False)),
                name="revision_snapshot_or_delta"),
        ]

    def __str__(self) -> str:
        return f"{self.note} r{self.number} ({self.kind})"

    @property
    def text(self) -> str:
        return document_text(self.lines)

    def lines_after(self, previous: list[dict]) -> list[dict]:
        """This revision's lines, given those of the revision before (ignored by a snapshot)."""
        if self.snapshot is not None:
            return self.snapshot
        by_id = {line["id"]: line for line in previous}
        for line_id in self.delta["removed"]:
            by_id.pop(line_id, None)
        by_id.update((line["id"], line) for line in self.delta["changed"])
        return sorted(by_id.values(), key=lambda line: (line["page"], line["order"]))


def document_text(lines: list[dict]) -> str:
    """The text of a note from its lines in reading order: pages separated by a blank line."""
    pages: dict[int, list[str]] = {}
    for line in lines:
        pages.setdefault(line["page"], []).append(line["text"])
    return "\n\n".join("\n".join(t for t in texts if t) for _, texts in sorted(pages.items()))


# Search ----------------------------------------------------------------------------------------
# The index behind recognition/search: one entry per line and a vocabulary per user, rebuilt
# from the signals sent after a note's text changes. Entries point at their line and note
# without a database constraint: the signals arrive after the commit, and a deleted note's
# entries are still needed then, to take its words out of the vocabulary.


class SearchLine(models.Model):
    """What the search index holds for one line: its words and the recognizer's other readings.

    Both columns hold normalized words separated by single spaces (`recognition.search.text`).
    Migration 0004_search adds the database's own full-text index over them: on PostgreSQL a
    generated, weighted `vector` column (words A, alternatives D) with a GIN index; on SQLite
    the FTS5 table `SearchLineText`, kept in step by triggers.
    """

    line = models.OneToOneField(Line, primary_key=True, on_delete=models.DO_NOTHING,
                                db_constraint=False, related_name="+")
    note = models.ForeignKey(Note, on_delete=models.DO_NOTHING, db_constraint=False,
                             related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="+")
    terms = models.TextField()
    # Words the recognizer also considered for this line's words (machine-read lines only).
    alternatives = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.terms[:60]


class SearchLineText(models.Model):
    """SQLite only: the FTS5 table over `SearchLine` (external content, rowid = line id).

    Searches start from this table, with the owner and note as (unindexed) columns of it: a
    join would let SQLite's planner start from the owner's lines instead and run the full-text
    query once per line. Unmanaged: migration 0004_search creates it, and the triggers that
    keep it in step, on SQLite only.
    """

    line = models.OneToOneField(SearchLine, primary_key=True, db_column="rowid",
                                on_delete=models.DO_NOTHING, db_constraint=False,
                                related_name="fts")
    note = models.ForeignKey(Note, on_delete=models.DO_NOTHING, db_constraint=False,
                             related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING,
                              db_constraint=False, related_name="+")
    terms = models.TextField()
    alternatives = models.TextField()

    class Meta:
        managed = False
        db_table = "recognition_searchline_fts"


class SearchWord(models.Model):
    """A word of a user's lines and in how many lines it occurs: what typos are matched to."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="+")
    word = models.CharField(max_length=64)
    length = models.PositiveSmallIntegerField()
    # Not positive: an upsert adds a negative count before the emptied rows are deleted.
    lines = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "word"], name="unique_search_word"),
        ]
        indexes = [models.Index(fields=["owner", "length"], name="search_word_length")]

    def __str__(self) -> str:
        return self.word


class SearchVocabulary(models.Model):
    """A stamp that changes with each change of a user's vocabulary (`SearchWord` rows), so
    that a process holding the vocabulary in memory knows when to read it again."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True,
                                 on_delete=models.CASCADE, related_name="+")
    stamp = models.UUIDField(default=uuid.uuid4)

    def __str__(self) -> str:
        return str(self.stamp)


# Staff review --------------------------------------------------------------------------------
# The admin's review panel (recognition/review.py, recognition/admin/): which lines a staff
# member confirmed, and a record of what staff did. Kept out of Line so that recognition and
# editing know nothing of reviews; a line replaced by a new recognition loses its review with it.


class LineReview(models.Model):
    """A staff member looked at this line and confirmed (or corrected) its text."""

    line = models.OneToOneField(Line, primary_key=True, on_delete=models.CASCADE,
                                related_name="review")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                 related_name="+")
    reviewed = models.DateTimeField()

    class Meta:
        # The review panel's own rights, given to the "Reviewers" group (migration 0008).
        permissions = [
            ("correct_line", "Can correct lines in the review panel"),
            ("rerun_recognition", "Can re-run recognition from the review panel"),
        ]

    def __str__(self) -> str:
        return f"line {self.line_id} reviewed {self.reviewed:%Y-%m-%d %H:%M}"


class StaffAction(models.Model):
    """One thing a staff member did in the review panel (an audit trail, never edited)."""

    class Action(models.TextChoices):
        CORRECT = "correct", "Corrected lines"
        REVIEW = "review", "Marked reviewed"
        RERUN = "rerun", "Re-ran recognition"
        RETRY = "retry", "Retried jobs"

    # The name is kept too: the record outlives the staff account.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_name = models.CharField(max_length=150)
    created = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    view = models.CharField(max_length=200, help_text="The admin view it was done from.")
    target = models.CharField(max_length=100, help_text='What the ids are of: "recognition.line".')
    object_ids = models.JSONField(default=list, blank=True)
    # What came of it: revisions made, objects skipped and why.
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.actor_name}: {self.get_action_display()} ({len(self.object_ids)})"


# Personal models -----------------------------------------------------------------------------
# A recognizer fine-tuned on one user's corrected lines (recognition/personal/: services start
# and choose them, training trains them in the `training` cluster).


class PersonalModel(models.Model):
    """One fine-tuning of a user's recognizer: what it started from, what it learned from, how
    it measured, and whether it reads this user's notes."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        TRAINING = "training"
        PROMOTED = "promoted", "Better: promoted"
        KEPT_OLD = "kept_old", "Not better: old model kept"
        FAILED = "failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="personal_models")
    # Lineage: the personal model it was fine-tuned from; none means the site's base model,
    # named in `base_version` either way.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="children")
    base_version = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # The one that reads the owner's notes (at most one; none: the base model).
    active = models.BooleanField(default=False)
    reason = models.CharField(max_length=200, blank=True,
                              help_text="What started it: automatic or on request.")
    file = models.CharField(max_length=300, blank=True, help_text="Name in the media storage.")
    train_lines = models.PositiveIntegerField(null=True, blank=True)
    held_out_lines = models.PositiveIntegerField(null=True, blank=True)
    # Corrected lines the owner had when it was queued: what "new corrections" count from.
    corrections = models.PositiveIntegerField(default=0)
    # CER on the held-out lines: of the model it started from, and its own.
    cer_before = models.FloatField(null=True, blank=True)
    cer_after = models.FloatField(null=True, blank=True)
    training_seconds = models.FloatField(null=True, blank=True)
    message = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    ACTIVE = (Status.QUEUED, Status.TRAINING)
    # The versions that can read notes: one that came out better and whose file is stored.
    READERS = models.Q(status=Status.PROMOTED) & ~models.Q(file="")

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner"], condition=models.Q(active=True),
                                    name="one_active_personal_model"),
            models.UniqueConstraint(fields=["owner"],
                                    condition=models.Q(status__in=["queued", "training"]),
                                    name="one_personal_training_at_a_time"),
        ]

    def __str__(self) -> str:
        return f"personal model {self.pk} of user {self.owner_id}: {self.status}"

    @property
    def outcome(self) -> str:
        """Held-out character error rates, before → after: "18% → 7.2%"."""
        if self.cer_before is None or self.cer_after is None:
            return ""
        return f"{_percent(self.cer_before)} → {_percent(self.cer_after)}"

    @property
    def reads_notes(self) -> bool:
        """Whether it can read its owner's notes (READERS: promoted, its file stored)."""
        return self.status == self.Status.PROMOTED and bool(self.file)

    @property
    def version(self) -> str:
        """How recognition jobs name it (RecognitionJob.model_version)."""
        return f"personal #{self.pk} (from {self.base_version})"[:100]


def _percent(rate: float) -> str:
    return f"{rate:.1%}" if rate < 0.1 else f"{rate:.0%}"
