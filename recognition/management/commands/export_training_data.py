"""Write every corrected line as a training example: line images plus manifests for ml.train."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from recognition.training_data import VAL_PERCENT, training_data_export


class Command(BaseCommand):
    help = (
        "Export the lines people corrected (web, API, review panel, imports) as line images "
        "with train.tsv and val.tsv manifests, for `python -m ml.train --train OUT/train.tsv "
        "--val OUT/val.tsv` and `python -m ml.evaluate OUT/val.tsv`."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, required=True, help="Folder to write into.")
        parser.add_argument("--user", help="Only this user's lines (user name).")
        parser.add_argument("--val-percent", type=int, default=VAL_PERCENT,
                            help=f"Pages held out for validation (default {VAL_PERCENT}).")

    def handle(self, *args, out: Path, user=None, val_percent=VAL_PERCENT, **options):
        owner = None
        if user:
            owner = get_user_model().objects.filter(username=user).first()
            if owner is None:
                raise CommandError(f"No user {user!r}.")
        if not 0 <= val_percent <= 100:
            raise CommandError("--val-percent must be between 0 and 100.")
        if out.exists() and any(out.iterdir()):
            raise CommandError(f"{out} is not empty; choose a new folder.")
        summary = training_data_export(out=out, user=owner, val_percent=val_percent)
        self.stdout.write(f"{summary.train} training and {summary.val} validation line(s) "
                          f"from {len(summary.users)} user(s) in {out}"
                          + (f"; {summary.skipped} without an image skipped"
                             if summary.skipped else ""))
