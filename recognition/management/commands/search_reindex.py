"""Rebuild the search index of every note (or one user's), e.g. after restoring a backup or
changing how lines are indexed. Safe to run while the site serves: each note is re-indexed in
its own transaction."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from recognition.models import Note
from recognition.search.index import note_index


class Command(BaseCommand):
    help = "Re-index every note's lines for search (all users, or --user NAME)."

    def add_arguments(self, parser):
        parser.add_argument("--user", help="Only this user's notes (user name).")

    def handle(self, *args, user=None, **options):
        notes = Note.objects.order_by("pk")
        if user:
            notes = notes.filter(owner__username=user)
        count = lines = 0
        for note_id in notes.values_list("pk", flat=True).iterator():
            lines += note_index(note_id=note_id)
            count += 1
        self.stdout.write(f"indexed {lines} line(s) of {count} note(s)")
