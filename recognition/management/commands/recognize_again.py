"""Queue recognition again for many notes at once, e.g. after deploying a new model."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from recognition import selectors, services
from recognition.exceptions import NoteBusyError
from recognition.models import Note, PersonalModel


class Command(BaseCommand):
    help = (
        "Queue recognition again for finished notes: all of them, one user's, the failed ones, "
        "the partly read ones, or those last read by another model than the one that reads their "
        "owner's notes now (the configured one, or the owner's personal model). "
        "Corrected lines are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", help="Only this user's notes (user name).")
        parser.add_argument("--failed", action="store_true", help="Only notes that failed.")
        parser.add_argument("--partial", action="store_true",
                            help="Only notes with a page only partly read (its time ran out).")
        parser.add_argument("--outdated", action="store_true",
                            help="Only notes last read by another model than the one that "
                                 "reads their owner's notes now.")
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
        notes = notes.select_related("owner")
        notes = self._outdated(notes) if outdated else notes.iterator()
        queued = 0
        for note in notes:
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

    @staticmethod
    def _outdated(notes):
        """Notes last read by another model than the one that reads their owner's notes now:
        the site's, or the owner's personal model."""
        from recognition import ocr  # loads the model: only when asked

        site = ocr.model_version()
        personal = {m.owner_id: m.version for m in PersonalModel.objects.filter(active=True)}
        notes = notes.annotate(last_version=selectors.note_last_model_version())
        return (note for note in notes.iterator()
                if note.last_version != personal.get(note.owner_id, site))
