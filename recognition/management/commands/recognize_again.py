"""Queue recognition again for many notes at once, e.g. after deploying a new model."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import OuterRef, Subquery

from recognition import selectors, services
from recognition.exceptions import NoteBusyError
from recognition.models import Note, RecognitionJob


class Command(BaseCommand):
    help = (
        "Queue recognition again for finished notes: all of them, one user's, the failed ones, "
        "the partly read ones, or those last read by another model than the configured one. "
        "Corrected lines are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", help="Only this user's notes (user name).")
        parser.add_argument("--failed", action="store_true", help="Only notes that failed.")
        parser.add_argument("--partial", action="store_true",
                            help="Only notes with a page only partly read (its time ran out).")
        parser.add_argument("--outdated", action="store_true",
                            help="Only notes last read by another model version.")
        parser.add_argument("--dry-run", action="store_true", help="Count, queue nothing.")

    def handle(self, *args, user=None, failed=False, partial=False, outdated=False,
               dry_run=False, **options):
        notes = Note.objects.exclude(status__in=[Note.Status.QUEUED, Note.Status.PROCESSING])
        if user:
            notes = notes.filter(owner__username=user)
            if not notes.exists() and not Note.objects.filter(owner__username=user).exists():
                raise CommandError(f"No notes for user {user!r}.")
        if failed:
            notes = notes.filter(status=Note.Status.FAILED)
        if partial:
            notes = notes.filter(selectors.note_partly_read())
        if outdated:
            from recognition import ocr  # loads the model: only when asked

            last_version = RecognitionJob.objects.filter(note=OuterRef("pk")).order_by(
                "-created").values("model_version")[:1]
            notes = notes.annotate(last_version=Subquery(last_version)).exclude(
                last_version=ocr.model_version())
        queued = 0
        for note in notes.select_related("owner").iterator():
            if dry_run:
                queued += 1
                continue
            try:
                services.note_recognize(user=note.owner, note=note)
            except NoteBusyError:  # started meanwhile
                continue
            queued += 1
        verb = "would queue" if dry_run else "queued"
        self.stdout.write(f"{verb} {queued} note(s)")
