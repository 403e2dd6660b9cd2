"""Queue recognition again for many notes at once, e.g. after deploying a new model."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from recognition import selectors, services
from recognition.exceptions import NoteBusyError
from recognition.models import Note, PersonalModel

ERROR_NO_MODEL = "No personal model {model}; --model takes \"standard\" or a personal model's id."
ERROR_NOT_USABLE = ("Personal model {model} cannot read notes: only a promoted version with its "
                    "file can.")
ERROR_OTHER_OWNER = ("Personal model {model} is {owner}'s: it reads only their notes, not "
                     "{user}'s.")


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
                                 "reads their owner's notes now (or than --model).")
        parser.add_argument("--model",
                            help='Read them with this model: "standard" (the configured one, '
                                 "whatever their owners use) or a personal model's id (only "
                                 "its owner's notes). Default: what reads each owner's notes.")
        parser.add_argument("--dry-run", action="store_true", help="Count, queue nothing.")

    def handle(self, *args, user=None, failed=False, partial=False, outdated=False,
               model=None, dry_run=False, **options):
        notes = Note.objects.exclude(status__in=[Note.Status.QUEUED, Note.Status.PROCESSING])
        if user:
            notes = notes.filter(owner__username=user)
            if not notes.exists() and not Note.objects.filter(owner__username=user).exists():
                raise CommandError(f"No notes for user {user!r}.")
        chosen = self._model(model, user) if model else None
        if isinstance(chosen, PersonalModel):
            notes = notes.filter(owner_id=chosen.owner_id)
        if failed:
            notes = notes.filter(status=Note.Status.FAILED)
        if partial:
            notes = notes.filter(selectors.note_partly_read())
        notes = notes.select_related("owner")
        notes = self._outdated(notes, chosen) if outdated else notes.iterator()
        queued = 0
        for note in notes:
            if dry_run:
                queued += 1
                continue
            try:
                services.note_recognize(user=note.owner, note=note, model=chosen)
            except NoteBusyError:  # started meanwhile
                continue
            queued += 1
        verb = "would queue" if dry_run else "queued"
        self.stdout.write(f"{verb} {queued} note(s)")

    @staticmethod
    def _model(value: str, user: str | None) -> PersonalModel | str:
        """--model as `services.note_recognize` takes it, checked before anything is queued."""
        if value == services.STANDARD_MODEL:
            return value
        model = (PersonalModel.objects.select_related("owner").filter(pk=value).first()
                 if value.isdigit() else None)
        if model is None:
            raise CommandError(ERROR_NO_MODEL.format(model=value))
        if not model.reads_notes:
            raise CommandError(ERROR_NOT_USABLE.format(model=model.pk))
        if user and model.owner.username != user:
            raise CommandError(ERROR_OTHER_OWNER.format(model=model.pk,
                                                        owner=model.owner.username, user=user))
        return model

    @staticmethod
    def _outdated(notes, chosen):
        """Notes last read by another model than `chosen`, or (without one) than the one that
        reads their owner's notes now: the site's, or the owner's personal model."""
        if isinstance(chosen, PersonalModel):
            target = chosen.version
        else:
            from recognition import ocr  # loads the model: only when asked

            target = ocr.model_version()
        personal = ({} if chosen else
                    {m.owner_id: m.version for m in PersonalModel.objects.filter(active=True)})
        notes = notes.annotate(last_version=selectors.note_last_model_version())
        return (note for note in notes.iterator()
                if note.last_version != personal.get(note.owner_id, target))
