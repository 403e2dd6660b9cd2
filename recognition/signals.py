"""Signals of the recognition app, for features that follow a note's text (search, ...)."""

from django.dispatch import Signal

# Sent after the transaction that changed a note's lines commits; kwargs: note_id.
note_text_changed = Signal()
# Sent after the transaction that deleted a note commits; kwargs: note_id.
note_deleted = Signal()
